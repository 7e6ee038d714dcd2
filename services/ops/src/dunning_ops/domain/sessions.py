"""The session cookie: a random session id and its HMAC-SHA256 under the dashboard's key.

The cookie carries no key and no role, only the id of a session held in the dashboard's memory
(``service.Sessions``); the signature lets a forged or altered cookie be refused before any
lookup. The API key the user signed in with stays on the server and is forwarded to the
services on each call, so the ledger and the gate judge every action by the user's own role.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

COOKIE: Final = "dunning_ops"
_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def sign(session_id: str, key: bytes) -> str:
    mac = hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()
    return f"{session_id}.{mac}"


def verify(cookie: str | None, key: bytes) -> str | None:
    """The session id of a genuine cookie, else None."""
    if not cookie or "." not in cookie:
        return None
    session_id, _, mac = cookie.rpartition(".")
    if not _ID.match(session_id):
        return None
    expected = hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()
    return session_id if hmac.compare_digest(mac.encode(), expected.encode()) else None
