"""Listing agent tasks (pure): the filters and the opaque page cursor.

Tasks are listed by due instant, then id: a stable order, so the cursor is the last
(due_at, task_id) of a page, versioned and base64url-encoded; callers treat it as opaque.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from dunning_ledger.domain import cursors
from dunning_ledger.domain.tasks import TaskKind, TaskStatus

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 500


@dataclass(frozen=True, slots=True)
class TaskQuery:
    status: TaskStatus | None = None
    kind: TaskKind | None = None
    account_id: str | None = None
    due_before: datetime | None = None
    after: tuple[datetime, str] | None = None
    limit: int = DEFAULT_LIMIT


def encode_cursor(due_at: datetime, task_id: str) -> str:
    return cursors.pack({"due": due_at.isoformat(), "id": task_id})


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(due_at, task_id) a cursor continues after; ValueError when it is not ours."""
    data = cursors.unpack(cursor)
    task_id = data.get("id")
    try:
        due = datetime.fromisoformat(str(data["due"]))
    except (KeyError, ValueError):
        due = None
    if due is None or due.tzinfo is None or not isinstance(task_id, str):
        raise ValueError(cursors.NOT_OURS)
    return due, task_id
