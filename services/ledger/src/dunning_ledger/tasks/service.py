"""Agent task use cases: opening a task for a reply that needs a person, and the queue's
list, claim, release and complete.

Where tasks come from (ARCHITECTURE.md: agent tasks are owned by the ledger, which also
owns the communication log): the ledger opens them itself from ``consumer.signals.v1``,
in the transaction that records the reply, rather than the scheduler asking for them. The
reply, its intent and the task then land together or not at all, and the signal's
``processed_events`` mark and the task's unique ``source_event_id`` make a redelivered
signal a no-op. The scheduler only notes such replies on its case (it pauses nothing).

A claim is taken under the task's row lock, so of two agents claiming at once one gets
the task and the other a 409 naming who holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning_core.contracts.access import Principal, Role
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import ConsumerSignaled

from dunning_ledger.domain.task_query import TaskQuery, encode_cursor
from dunning_ledger.domain.tasks import (
    Refusal,
    TaskState,
    TaskStatus,
    account_zones,
    due_window,
    may_claim,
    may_finish,
    reply_task_kind,
    task_id_for,
)
from dunning_ledger.errors import NotFound, TaskConflict
from dunning_ledger.ports import Clock, Transaction, Transactions, UseCase
from dunning_ledger.tasks.models import AgentTask, AgentTaskChange

LEDGER: str = "ledger"  # the author of what the ledger does by itself


@dataclass(frozen=True, slots=True)
class TaskPageView:
    tasks: Sequence[AgentTask]
    next_cursor: str | None
    as_of: datetime


def state_of(task: AgentTask) -> TaskState:
    return TaskState(TaskStatus(task.status), task.claimed_by, task.lease_until)


async def open_reply_tasks(tx: Transaction, envelopes: Sequence[Envelope], now: datetime) -> int:
    """A task for each fresh reply that needs a person (``call_me``, ``unknown``); how
    many were new. The task is due inside the consumer's allowed hours after the reply."""
    opened = 0
    for envelope in envelopes:
        signal = envelope.data
        if not isinstance(signal, ConsumerSignaled):
            continue
        kind = reply_task_kind(signal)
        if kind is None:
            continue
        account = await tx.accounts.get(signal.account_id)
        if account is None:
            continue  # the log keeps the reply; there is no account to call about
        window = due_window(signal.occurred_at, account_zones(account.consumer))
        task = AgentTask(
            task_id=task_id_for(envelope.id), account_id=signal.account_id, kind=kind.value,
            reason=signal.details.get("intent") or "unknown", source_event_id=envelope.id,
            signal_id=signal.signal_id, channel=signal.channel and signal.channel.value,
            address=signal.address, message_text=signal.text, received_at=signal.occurred_at,
            zones=list(window.zones), window_start=window.opens_at, window_end=window.closes_at,
            due_at=window.due_at, status=TaskStatus.OPEN.value, created_at=now, updated_at=now,
        )  # fmt: skip
        if await tx.tasks.add_task(task):
            opened += 1
            due = f"{window.due_at:%Y-%m-%dT%H:%MZ}"
            note = f"{kind.value} for a reply read as '{task.reason}', due {due}"
            await _changed(tx, task, "created", LEDGER, now, note)
    return opened


async def _changed(
    tx: Transaction, task: AgentTask, action: str, by: str, at: datetime, note: str | None = None
) -> None:
    change = AgentTaskChange(
        task_id=task.task_id, account_id=task.account_id, action=action, by=by, at=at, note=note
    )
    await tx.tasks.add_change(change)


def _refused(task: AgentTask, refusal: Refusal, now: datetime) -> TaskConflict:
    state = state_of(task)
    held = state.held(now)
    lease = task.lease_until.isoformat() if held and task.lease_until else None
    who = task.completed_by if state.status is TaskStatus.DONE else task.claimed_by
    where = f" by {who}" if who and (held or state.status is TaskStatus.DONE) else ""
    message = f"task {task.task_id} is {refusal.value}{where}"
    if refusal is Refusal.TAKEN and lease:
        message += f" until {lease}"
    return TaskConflict(
        message, state.effective(now).value, task.claimed_by if held else None, lease
    )


class TaskService(UseCase):
    def __init__(self, transactions: Transactions, clock: Clock, lease: timedelta) -> None:
        super().__init__(transactions, clock)
        self.lease = lease

    async def list_tasks(self, query: TaskQuery) -> TaskPageView:
        now = self.clock.now()
        async with self.transactions() as tx:
            rows = await tx.tasks.list_tasks(query, now)
            await tx.commit()
        page = list(rows[: query.limit])
        more = len(rows) > query.limit
        cursor = encode_cursor(page[-1].due_at, page[-1].task_id) if more and page else None
        return TaskPageView(page, cursor, now)

    async def _locked(self, tx: Transaction, task_id: str) -> AgentTask:
        task = await tx.tasks.get_task(task_id, for_update=True)
        if task is None:
            raise NotFound(f"no task {task_id!r}")
        return task

    async def claim(self, task_id: str, who: Principal) -> AgentTask:
        """The task, now claimed by ``who`` until ``now + lease`` (a claim of one's own
        claim renews it)."""
        now = self.clock.now()
        async with self.transactions() as tx:
            task = await self._locked(tx, task_id)
            refusal = may_claim(state_of(task), who.name, now)
            if refusal is not None:
                raise _refused(task, refusal, now)
            lapsed = task.status == TaskStatus.CLAIMED and not state_of(task).held(now)
            if lapsed and task.lease_until is not None:
                lapsed_note = f"the claim of {task.claimed_by} lapsed unfinished"
                await _changed(tx, task, "lease_lapsed", LEDGER, task.lease_until, lapsed_note)
            renewed = task.status == TaskStatus.CLAIMED and task.claimed_by == who.name
            task.status, task.claimed_by = TaskStatus.CLAIMED.value, who.name
            task.claimed_at, task.lease_until, task.updated_at = now, now + self.lease, now
            until = f"lease until {task.lease_until:%Y-%m-%dT%H:%M:%SZ}"
            await _changed(
                tx, task, "renewed" if renewed and not lapsed else "claimed", who.name, now, until
            )
            await tx.commit()
        return task

    async def release(self, task_id: str, who: Principal) -> AgentTask:
        now = self.clock.now()
        async with self.transactions() as tx:
            task = await self._locked(tx, task_id)
            state = state_of(task)
            refusal = may_finish(state, who.name, who.role is Role.ADMIN, now)
            if refusal is None and state.status is not TaskStatus.CLAIMED:
                refusal = Refusal.NOT_CLAIMED
            if refusal is not None:
                raise _refused(task, refusal, now)
            note = f"released the claim of {task.claimed_by}"
            task.status, task.claimed_by = TaskStatus.OPEN.value, None
            task.claimed_at, task.lease_until, task.updated_at = None, None, now
            await _changed(tx, task, "released", who.name, now, note)
            await tx.commit()
        return task

    async def complete(self, task_id: str, who: Principal, outcome: str) -> tuple[AgentTask, bool]:
        """The task, done with ``outcome``; and whether this was a replay (the same
        principal completing it again with the same outcome)."""
        now = self.clock.now()
        async with self.transactions() as tx:
            task = await self._locked(tx, task_id)
            if (task.status, task.completed_by, task.outcome) == ("done", who.name, outcome):
                await tx.commit()
                return task, True
            refusal = may_finish(state_of(task), who.name, who.role is Role.ADMIN, now)
            if refusal is not None:
                raise _refused(task, refusal, now)
            task.status, task.completed_by, task.completed_at = "done", who.name, now
            task.outcome, task.lease_until, task.updated_at = outcome, None, now
            await _changed(tx, task, "completed", who.name, now, outcome)
            await tx.commit()
        return task, False
