"""All SQL of the scheduler: cases and steps in PostgreSQL (SQLAlchemy 2 Core, asyncpg).

Writes are whole-row upserts in one statement per batch; the planner locks due rows with
``FOR UPDATE SKIP LOCKED`` so any number of replicas share the work without waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import Consumer, Debt, EmailContact, OutreachStep
from dunning_core.contracts.payments import PlanAgreed, PromiseMade
from dunning_core.runtime.clock import Clock
from sqlalchemy import Row, Select, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dunning_scheduler.adapters.models import HELD, cases, steps
from dunning_scheduler.domain.case import (
    Case,
    CaseStatus,
    MoneyState,
    PauseReason,
    StepRecord,
    StepStatus,
)

# --- mapping -----------------------------------------------------------------------------


PROGRESS_COLUMNS = (
    "stage_index", "stage_key", "attempt", "next_step_at", "status", "exhausted",
    "pause_reasons", "paused_reason", "last_step_ids", "last_planned_at", "steps_planned",
    "priority", "updated_at",
)  # fmt: skip


def case_row(case: Case, stage_keys: Sequence[str], *, snapshot: bool = True) -> dict[str, Any]:
    """The row of a case; without ``snapshot`` only the columns planning changes."""
    progress = {
        "account_id": case.account_id,
        "stage_index": case.stage_index,
        "stage_key": stage_keys[case.stage_index] if case.stage_index < len(stage_keys) else None,
        "attempt": case.attempt,
        "next_step_at": case.next_step_at,
        "status": case.status.value,
        "exhausted": case.exhausted,
        "pause_reasons": sorted(r.value for r in case.pause_reasons),
        "paused_reason": case.paused_reason.value if case.paused_reason else None,
        "last_step_ids": list(case.last_step_ids),
        "last_planned_at": case.last_planned_at,
        "steps_planned": case.steps_planned,
        "priority": case.priority,
        "updated_at": case.updated_at,
    }
    if not snapshot:
        return progress
    return {
        **progress,
        "debt_id": case.debt_id,
        "revision": case.revision,
        "consumer": case.consumer.model_dump(mode="json") if case.consumer else None,
        "debt": case.debt.model_dump(mode="json") if case.debt else None,
        "policy": case.policy,
        "resolved": case.resolved,
        "promise_until": case.promise_until,
        "opted_out_channels": sorted(c.value for c in case.opted_out_channels),
        "bad_addresses": sorted(case.bad_addresses),
        "soft_failures": {a: list(s) for a, s in case.soft_failures.items()},
        "contacted": case.contacted,
        "last_payment_id": case.last_payment_id,
        "money": money_json(case.money),
        "note": case.note,
        "created_at": case.created_at,
    }


_PENDING: dict[str, type[PlanAgreed | PromiseMade]] = {
    PlanAgreed.event_type: PlanAgreed,
    PromiseMade.event_type: PromiseMade,
}


def money_json(money: MoneyState) -> dict[str, Any] | None:
    if money == MoneyState():
        return None
    return {
        "plan_id": money.plan_id,
        "promise_id": money.promise_id,
        "steps": [list(pair) for pair in money.steps],
        "seen": list(money.seen),
        "pending": [
            {"event_type": e.event_type, "data": e.model_dump(mode="json")} for e in money.pending
        ],
    }


def money_from_json(data: dict[str, Any] | None) -> MoneyState:
    if not data:
        return MoneyState()
    return MoneyState(
        plan_id=data.get("plan_id"),
        promise_id=data.get("promise_id"),
        steps=tuple((step, purpose) for step, purpose in data.get("steps", ())),
        seen=tuple(data.get("seen", ())),
        pending=tuple(
            _PENDING[p["event_type"]].model_validate(p["data"]) for p in data.get("pending", ())
        ),
    )


_PROGRESS = (
    update(cases)
    .where(cases.c.account_id == bindparam("p_account_id"))
    .values({c: bindparam(f"p_{c}") for c in PROGRESS_COLUMNS})
)


class _StoredEmail(EmailContact):
    """An email contact read back from our own table: its address was validated on the way
    in, and re-running the email validator costs ~40 µs per case on the planner's path."""

    address: str


def consumer_from_json(data: dict[str, Any]) -> Consumer:
    """The consumer snapshot, fully validated except the addresses' syntax (see above)."""
    emails = []
    for raw in data.get("emails", ()):
        stored = _StoredEmail.model_validate(raw)
        emails.append(EmailContact.model_construct(stored.model_fields_set, **dict(stored)))
    return Consumer.model_validate({**data, "emails": tuple(emails)})


def case_from_row(row: Any) -> Case:
    m = row._mapping
    return Case(
        account_id=m["account_id"],
        revision=m["revision"],
        consumer=consumer_from_json(m["consumer"]) if m["consumer"] else None,
        debt=Debt.model_validate(m["debt"]) if m["debt"] else None,
        policy=m["policy"],
        stage_index=m["stage_index"],
        attempt=m["attempt"],
        next_step_at=m["next_step_at"],
        resolved=m["resolved"],
        exhausted=m["exhausted"],
        pause_reasons=frozenset(PauseReason(r) for r in m["pause_reasons"]),
        promise_until=m["promise_until"],
        opted_out_channels=frozenset(Channel(c) for c in m["opted_out_channels"]),
        bad_addresses=frozenset(m["bad_addresses"]),
        soft_failures={a: tuple(s) for a, s in m["soft_failures"].items()},
        contacted=m["contacted"],
        last_step_ids=tuple(m["last_step_ids"]),
        last_planned_at=m["last_planned_at"],
        steps_planned=m["steps_planned"],
        priority=m["priority"],
        last_payment_id=m["last_payment_id"],
        money=money_from_json(m["money"]),
        note=m["note"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def step_row(record: StepRecord, now: datetime) -> dict[str, Any]:
    """The step's own columns, named as its fields (``step_from_row`` reads them back so),
    then what the scheduler keeps of it."""
    return {
        **record.step.model_dump(),
        "account_id": record.account_id,
        "stage_key": record.stage_key,
        "planned_at": record.planned_at,
        "gap_after_s": int(record.gap_after.total_seconds()) if record.gap_after else None,
        "status": record.status.value,
        "rule_ids": list(record.rule_ids),
        "delivery_status": record.delivery_status,
        "replans": record.replans,
        "updated_at": now,
    }


def step_from_row(row: Any) -> StepRecord:
    m = row._mapping
    gap = m["gap_after_s"]
    return StepRecord(
        account_id=m["account_id"],
        stage_key=m["stage_key"],
        step=OutreachStep.model_validate(dict(m)),  # its own columns; it ignores the others
        planned_at=m["planned_at"],
        gap_after=timedelta(seconds=gap) if gap is not None else None,
        status=StepStatus(m["status"]),
        rule_ids=tuple(m["rule_ids"]),
        delivery_status=m["delivery_status"],
        replans=m["replans"],
    )


def _upsert(table: Any, rows: list[dict[str, Any]], key: str, keep: tuple[str, ...] = ()) -> Any:
    stmt = insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c != key and c not in keep}
    return stmt.on_conflict_do_update(index_elements=[key], set_=updates)


# --- unit of work ------------------------------------------------------------------------


class SqlTransaction:
    def __init__(self, conn: AsyncConnection, stage_keys: Sequence[str], now: datetime) -> None:
        self.conn = conn
        self.stage_keys = stage_keys
        self.now = now

    async def _claim(
        self, query: Select[*tuple[Any, ...]], limit: int
    ) -> Sequence[Row[*tuple[Any, ...]]]:
        """The first ``limit`` rows of ``query``, locked; rows another worker holds locked
        are skipped, not waited for, so workers share the due work."""
        result = await self.conn.execute(query.limit(limit).with_for_update(skip_locked=True))
        return result.all()

    async def lock_due(self, now: datetime, limit: int) -> list[Case]:
        query = (
            select(cases)
            .where(
                cases.c.status == CaseStatus.ACTIVE.value,
                cases.c.next_step_at.is_not(None),
                cases.c.next_step_at <= now,
            )
            .order_by(cases.c.priority.desc(), cases.c.next_step_at)
        )
        return [case_from_row(r) for r in await self._claim(query, limit)]

    async def lock_promises_due(self, now: datetime, limit: int) -> list[Case]:
        query = select(cases).where(
            cases.c.promise_until.is_not(None), cases.c.promise_until <= now
        )
        return [case_from_row(r) for r in await self._claim(query, limit)]

    async def lock_deferred_due(self, now: datetime, limit: int) -> list[StepRecord]:
        query = select(steps).where(HELD, steps.c.send_at <= now).order_by(steps.c.send_at)
        return [step_from_row(r) for r in await self._claim(query, limit)]

    async def lock_cases(self, account_ids: Sequence[str]) -> dict[str, Case]:
        if not account_ids:
            return {}
        # Sorted, so that two transactions lock overlapping sets in the same order.
        query = (
            select(cases)
            .where(cases.c.account_id.in_(sorted(account_ids)))
            .order_by(cases.c.account_id)
            .with_for_update()
        )
        result = await self.conn.execute(query)
        return {c.account_id: c for c in map(case_from_row, result)}

    async def load_steps(self, step_ids: Iterable[str]) -> dict[str, StepRecord]:
        ids = sorted(set(step_ids))
        if not ids:
            return {}
        result = await self.conn.execute(select(steps).where(steps.c.step_id.in_(ids)))
        return {s.step_id: s for s in map(step_from_row, result)}

    async def save_cases(self, items: Iterable[Case]) -> None:
        rows = [case_row(c, self.stage_keys) for c in items]
        if rows:
            await self.conn.execute(_upsert(cases, rows, "account_id", ("created_at",)), rows)

    async def save_progress(self, items: Iterable[Case]) -> None:
        """Write only what planning changes: the snapshot columns stay as they are."""
        rows = [
            {f"p_{k}": v for k, v in case_row(c, self.stage_keys, snapshot=False).items()}
            for c in items
        ]
        if rows:
            await self.conn.execute(_PROGRESS, rows)

    async def save_steps(self, items: Iterable[StepRecord]) -> None:
        rows = [step_row(s, self.now) for s in items]
        if rows:
            await self.conn.execute(_upsert(steps, rows, "step_id"), rows)


class SqlCaseStore:
    """``CaseStore`` over an async engine; ``stage_keys`` label stages in rows and stats."""

    def __init__(self, engine: AsyncEngine, stage_keys: Sequence[str], clock: Clock) -> None:
        self.engine = engine
        self.stage_keys = tuple(stage_keys)
        self.clock = clock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        async with self.engine.begin() as conn:
            yield SqlTransaction(conn, self.stage_keys, self.clock.now())

    async def get_case(self, account_id: str) -> Case | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(cases).where(cases.c.account_id == account_id))
            ).first()
        return case_from_row(row) if row is not None else None

    async def steps_of(self, account_id: str, limit: int = 50) -> list[StepRecord]:
        query = (
            select(steps)
            .where(steps.c.account_id == account_id)
            .order_by(steps.c.planned_at.desc(), steps.c.step_id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [step_from_row(r) for r in await conn.execute(query)]

    async def stats(self) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            by_status = await conn.execute(
                select(cases.c.status, func.count()).group_by(cases.c.status)
            )
            by_stage = await conn.execute(
                select(cases.c.stage_key, cases.c.status, func.count()).group_by(
                    cases.c.stage_key, cases.c.status
                )
            )
            by_reason = await conn.execute(
                select(cases.c.paused_reason, func.count())
                .where(cases.c.paused_reason.is_not(None))
                .group_by(cases.c.paused_reason)
            )
            by_step = await conn.execute(
                select(steps.c.status, func.count()).group_by(steps.c.status)
            )
            stages: dict[str, dict[str, int]] = {}
            for key, status, count in by_stage:
                stages.setdefault(key or "(done)", {})[status] = count
            return {
                "cases_by_status": {str(row[0]): int(row[1]) for row in by_status},
                "cases_by_stage": stages,
                "paused_by_reason": {str(row[0]): int(row[1]) for row in by_reason},
                "steps_by_status": {str(row[0]): int(row[1]) for row in by_step},
            }

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
