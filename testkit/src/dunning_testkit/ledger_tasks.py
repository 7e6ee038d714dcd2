"""In-memory fake of the ledger's ``TaskRepository``, used by ``ledger_memory.MemoryLedger``.

Rows are shared between a transaction's copy and the committed tables (updated in place,
as ``ledger_money`` does); there are no row locks, so claim races need PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dunning_ledger.domain.task_query import TaskQuery
from dunning_ledger.domain.tasks import TaskState, TaskStatus
from dunning_ledger.tasks.models import AgentTask, AgentTaskChange


@dataclass
class TaskTables:
    tasks: dict[str, AgentTask] = field(default_factory=dict)
    changes: list[AgentTaskChange] = field(default_factory=list)

    def copy(self) -> TaskTables:
        return TaskTables(dict(self.tasks), list(self.changes))


def _matches(t: AgentTask, q: TaskQuery, now: datetime) -> bool:
    status = TaskState(TaskStatus(t.status), t.claimed_by, t.lease_until).effective(now)
    checks = (
        q.status is None or status is q.status,
        q.kind is None or t.kind == q.kind,
        q.account_id is None or t.account_id == q.account_id,
        q.due_before is None or t.due_at < q.due_before,
        q.after is None or (t.due_at, t.task_id) > q.after,
    )
    return all(checks)


class MemoryTasks:
    def __init__(self, tables: TaskTables) -> None:
        self.t = tables

    async def add_task(self, task: AgentTask) -> bool:
        if any(t.source_event_id == task.source_event_id for t in self.t.tasks.values()):
            return False
        self.t.tasks[task.task_id] = task
        return True

    async def get_task(self, task_id: str, *, for_update: bool = False) -> AgentTask | None:
        return self.t.tasks.get(task_id)

    async def add_change(self, change: AgentTaskChange) -> None:
        change.seq = len(self.t.changes) + 1
        self.t.changes.append(change)

    async def changes_of(self, account_id: str) -> Sequence[AgentTaskChange]:
        found = [c for c in self.t.changes if c.account_id == account_id]
        return sorted(found, key=lambda c: (c.at, c.seq))

    async def list_tasks(self, q: TaskQuery, now: datetime) -> Sequence[AgentTask]:
        found = sorted(
            (t for t in self.t.tasks.values() if _matches(t, q, now)),
            key=lambda t: (t.due_at, t.task_id),
        )
        return found[: q.limit + 1]
