"""Listing agent tasks (pure): the filters and the opaque page cursor.

Tasks are listed by due instant, then id: a stable order, so the cursor is the last
(due_at, task_id) of a page, versioned and base64url-encoded; callers treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import orjson

from dunning_ledger.domain.tasks import TaskKind, TaskStatus

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 500
_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class TaskQuery:
    status: TaskStatus | None = None
    kind: TaskKind | None = None
    account_id: str | None = None
    due_before: datetime | None = None
    after: tuple[datetime, str] | None = None
    limit: int = DEFAULT_LIMIT


def encode_cursor(due_at: datetime, task_id: str) -> str:
    raw = orjson.dumps({"v": _VERSION, "due": due_at.isoformat(), "id": task_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(due_at, task_id) a cursor continues after; ValueError when it is not ours."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, dict) or data.get("v") != _VERSION:
            raise ValueError("not a task cursor")
        due = datetime.fromisoformat(str(data["due"]))
        task_id = data["id"]
        if due.tzinfo is None or not isinstance(task_id, str):
            raise ValueError("not a task cursor")
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            "the cursor is not one this ledger gave out; use next_cursor as returned"
        ) from exc
    return due, task_id
