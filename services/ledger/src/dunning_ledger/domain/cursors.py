"""The opaque page cursors of the ledger's lists (pure): the values of a page's last row
that the next page continues after, as versioned JSON, base64url-encoded without padding.
Callers treat a cursor as opaque."""

from __future__ import annotations

import base64
from typing import Final

import orjson

VERSION: Final = 1
NOT_OURS: Final = "the cursor is not one this ledger gave out; use next_cursor as returned"


def pack(values: dict[str, str]) -> str:
    raw = orjson.dumps({"v": VERSION, **values})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack(cursor: str) -> dict[str, object]:
    """The values a cursor of this version holds; empty when it is not one of ours."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # binascii.Error and orjson.JSONDecodeError are ValueErrors
        return {}
    return data if isinstance(data, dict) and data.get("v") == VERSION else {}
