"""Agent tasks in PostgreSQL (the caller commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert

from dunning_ledger.adapters.sql import SqlRepository
from dunning_ledger.domain.task_query import TaskQuery
from dunning_ledger.domain.tasks import TaskStatus
from dunning_ledger.tasks.models import AgentTask, AgentTaskChange


class SqlTaskRepository(SqlRepository):
    async def add_task(self, task: AgentTask) -> bool:
        """Insert unless a task of the same source event exists; whether it was new."""
        values = {c.name: getattr(task, c.key) for c in AgentTask.__table__.columns}
        query = (
            insert(AgentTask)
            .values(values)
            .on_conflict_do_nothing(index_elements=[AgentTask.source_event_id])
            .returning(AgentTask.task_id)
        )
        return (await self.session.execute(query)).scalar_one_or_none() is not None

    async def get_task(self, task_id: str, *, for_update: bool = False) -> AgentTask | None:
        return await self._one(
            select(AgentTask).where(AgentTask.task_id == task_id), for_update=for_update
        )

    async def add_change(self, change: AgentTaskChange) -> None:
        await self._add(change)

    async def changes_of(self, account_id: str) -> Sequence[AgentTaskChange]:
        return await self._of_account(
            AgentTaskChange, account_id, AgentTaskChange.at, AgentTaskChange.seq
        )

    async def list_tasks(self, q: TaskQuery, now: datetime) -> Sequence[AgentTask]:
        """Up to ``q.limit + 1`` tasks after the cursor, by (due_at, task_id). A claim
        whose lease lapsed counts as open, not as claimed."""
        query = select(AgentTask)
        held = and_(AgentTask.status == TaskStatus.CLAIMED, AgentTask.lease_until > now)
        if q.status is TaskStatus.OPEN:
            lapsed = and_(AgentTask.status == TaskStatus.CLAIMED, AgentTask.lease_until <= now)
            query = query.where(or_(AgentTask.status == TaskStatus.OPEN, lapsed))
        elif q.status is TaskStatus.CLAIMED:
            query = query.where(held)
        elif q.status is not None:
            query = query.where(AgentTask.status == q.status)
        if q.kind is not None:
            query = query.where(AgentTask.kind == q.kind)
        if q.account_id is not None:
            query = query.where(AgentTask.account_id == q.account_id)
        if q.due_before is not None:
            query = query.where(AgentTask.due_at < q.due_before)
        if q.after is not None:
            due, task_id = q.after
            query = query.where(
                or_(
                    AgentTask.due_at > due,
                    and_(AgentTask.due_at == due, AgentTask.task_id > task_id),
                )
            )
        query = query.order_by(AgentTask.due_at, AgentTask.task_id).limit(q.limit + 1)
        return (await self.session.execute(query)).scalars().all()
