"""Every SQL statement of the ledger. The caller owns the transaction and commits it.

Bulk writes (imports, the outbox) go through asyncpg's binary COPY on the session's own
connection, so they share its transaction; everything else is SQLAlchemy Core or ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ARRAY, Table, Text, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.domain.accounts import StoredAccount
from dunning_ledger.domain.communications import DecisionFold, DeliveryFold
from dunning_ledger.domain.flags import FlagChange
from dunning_ledger.domain.summary import SummaryCounts
from dunning_ledger.models import (
    SCHEMA,
    Account,
    CommunicationEvent,
    CommunicationLog,
    ConsumerFlag,
    Dispute,
    OutboxRecord,
    Payment,
    PaymentPlan,
    ProcessedEvent,
)

RELAY_LOCK = 0x1ED6E3  # advisory lock id: one relay publishes at a time (keeps key order)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account as written by an import."""

    account_id: str
    revision: int
    consumer: str  # JSON text
    debt: str  # JSON text
    debt_id: str
    currency: str
    imported_balance_minor: int
    balance_minor: int
    status: str
    fingerprint: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class PendingRecord:
    id: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event for the append-only communication_events table."""

    ce_id: str
    ce_type: str
    ce_source: str
    account_id: str
    step_id: str | None
    kind: str
    outcome: str
    occurred_at: datetime
    traceparent: str | None
    payload: str  # the event's JSON


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self) -> Any:
        """The asyncpg connection under the session (same transaction)."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def _copy(
        self, table: str, columns: Sequence[str], records: list[tuple[Any, ...]]
    ) -> None:
        if records:
            driver = await self._driver()
            await driver.copy_records_to_table(
                table, schema_name=SCHEMA, columns=list(columns), records=records
            )

    # --- accounts ----------------------------------------------------------------------

    async def lock_accounts(self, account_ids: Sequence[str]) -> dict[str, StoredAccount]:
        """The stored state of these accounts, row-locked until the transaction ends."""
        if not account_ids:
            return {}
        rows = await self.session.execute(
            select(Account.account_id, Account.revision, Account.fingerprint, Account.paid_minor)
            .where(Account.account_id == func.any(_text_array(account_ids)))
            .with_for_update()
        )
        return {
            r.account_id: StoredAccount(r.account_id, r.revision, r.fingerprint, r.paid_minor)
            for r in rows
        }

    async def insert_accounts(self, rows: Sequence[AccountRow]) -> None:
        await self._copy(
            "accounts",
            _ACCOUNT_COLUMNS,
            [(r.account_id, r.revision, r.consumer, r.debt, r.debt_id, r.currency,
              r.imported_balance_minor, 0, r.balance_minor, r.status, r.fingerprint, r.at, r.at)
             for r in rows],
        )  # fmt: skip

    async def update_accounts(self, rows: Sequence[AccountRow]) -> None:
        """Rewrite imported content: COPY into a temporary table, then one UPDATE ... FROM."""
        if not rows:
            return
        await self.session.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS account_import "
                "(LIKE ledger.accounts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
        )
        driver = await self._driver()
        await driver.copy_records_to_table(
            "account_import",
            columns=list(_ACCOUNT_COLUMNS),
            records=[(r.account_id, r.revision, r.consumer, r.debt, r.debt_id, r.currency,
                      r.imported_balance_minor, 0, r.balance_minor, r.status, r.fingerprint,
                      r.at, r.at) for r in rows],
        )  # fmt: skip
        await self.session.execute(
            text(
                "UPDATE ledger.accounts a SET revision = i.revision, consumer = i.consumer, "
                "debt = i.debt, debt_id = i.debt_id, currency = i.currency, "
                "imported_balance_minor = i.imported_balance_minor, "
                "balance_minor = i.balance_minor, status = i.status, "
                "fingerprint = i.fingerprint, updated_at = i.updated_at "
                "FROM account_import i WHERE a.account_id = i.account_id"
            )
        )

    async def get_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        query = select(Account).where(Account.account_id == account_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def set_balance(
        self, account_id: str, *, balance_minor: int, paid_minor: int, status: str, at: datetime
    ) -> None:
        await self.session.execute(
            update(Account)
            .where(Account.account_id == account_id)
            .values(
                balance_minor=balance_minor, paid_minor=paid_minor, status=status, updated_at=at
            )
        )

    # --- payments and plans ------------------------------------------------------------

    async def get_payment(self, payment_id: str) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def add_payment(self, payment: Payment) -> None:
        self.session.add(payment)
        await self.session.flush()

    async def payments_of(self, account_id: str) -> Sequence[Payment]:
        result = await self.session.scalars(
            select(Payment).where(Payment.account_id == account_id).order_by(Payment.received_at)
        )
        return result.all()

    async def get_plan(self, plan_id: str) -> PaymentPlan | None:
        return await self.session.get(PaymentPlan, plan_id)

    async def add_plan(self, plan: PaymentPlan) -> None:
        self.session.add(plan)
        await self.session.flush()

    async def plans_of(self, account_id: str) -> Sequence[PaymentPlan]:
        result = await self.session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.account_id == account_id)
            .order_by(PaymentPlan.agreed_at)
        )
        return result.all()

    # --- outbox ------------------------------------------------------------------------

    async def add_outbox(self, rows: Sequence[OutboxRow]) -> None:
        """Queue encoded records; the table's trigger NOTIFYs the relay at commit."""
        await self._copy(
            "outbox",
            ("topic", "key", "value", "headers"),
            [(r.topic, r.key, r.value, _headers_json(r.headers)) for r in rows],
        )

    async def try_relay_lock(self) -> bool:
        """Whether this transaction may publish; another replica holding it is publishing."""
        got = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": RELAY_LOCK}
        )
        return bool(got)

    async def pending_outbox(self, limit: int) -> list[PendingRecord]:
        rows = await self.session.execute(
            select(OutboxRecord.id, OutboxRecord.topic, OutboxRecord.key, OutboxRecord.value,
                   OutboxRecord.headers)
            .where(OutboxRecord.published_at.is_(None))
            .order_by(OutboxRecord.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        return [
            PendingRecord(r.id, r.topic, r.key, r.value, [(n, v.encode()) for n, v in r.headers])
            for r in rows
        ]

    async def mark_published(self, ids: Sequence[int], at: datetime) -> None:
        await self.session.execute(
            text(
                "UPDATE ledger.outbox SET published_at = :at WHERE id = ANY(CAST(:ids AS bigint[]))"
            ),
            {"at": at, "ids": list(ids)},
        )

    async def outbox_backlog(self) -> tuple[int, datetime | None]:
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxRecord.created_at)).where(
                    OutboxRecord.published_at.is_(None)
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def purge_published(self, before: datetime) -> int:
        result = await self.session.execute(
            text("DELETE FROM ledger.outbox WHERE published_at < :before"), {"before": before}
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- consumed events ---------------------------------------------------------------

    async def seen_events(self, group: str, ce_ids: Sequence[str]) -> set[str]:
        if not ce_ids:
            return set()
        rows = await self.session.scalars(
            select(ProcessedEvent.ce_id).where(
                ProcessedEvent.consumer_group == group,
                ProcessedEvent.ce_id == func.any(_text_array(ce_ids)),
            )
        )
        return set(rows.all())

    async def claim_events(self, group: str, ce_ids: Sequence[str], at: datetime) -> set[str]:
        """Record these ids as processed by ``group``; returns those not processed before."""
        if not ce_ids:
            return set()
        rows = await self.session.scalars(
            text(
                "INSERT INTO ledger.processed_events (consumer_group, ce_id, processed_at) "
                "SELECT :group, id, :at FROM unnest(CAST(:ids AS text[])) AS id "
                "ON CONFLICT DO NOTHING RETURNING ce_id"
            ),
            {"group": group, "ids": list(ce_ids), "at": at},
        )
        return set(rows.all())

    async def append_events(self, rows: Sequence[EventRow], at: datetime) -> set[str]:
        """Append to the audit trail; returns the ce_ids that were new.

        One statement over arrays (``unnest``): no per-row SQL to build, whatever the batch.
        """
        if not rows:
            return set()
        result = await self.session.scalars(
            text(
                "INSERT INTO ledger.communication_events (ce_id, ce_type, ce_source, "
                "account_id, step_id, kind, outcome, occurred_at, traceparent, payload, "
                "recorded_at) "
                "SELECT e.ce_id, e.ce_type, e.ce_source, e.account_id, e.step_id, e.kind, "
                "e.outcome, e.occurred_at, e.traceparent, e.payload::jsonb, :at "
                "FROM unnest(CAST(:ce_id AS text[]), CAST(:ce_type AS text[]), "
                "CAST(:ce_source AS text[]), CAST(:account_id AS text[]), "
                "CAST(:step_id AS text[]), CAST(:kind AS text[]), CAST(:outcome AS text[]), "
                "CAST(:occurred_at AS timestamptz[]), CAST(:traceparent AS text[]), "
                "CAST(:payload AS text[])) AS e(ce_id, ce_type, ce_source, account_id, "
                "step_id, kind, outcome, occurred_at, traceparent, payload) "
                "ON CONFLICT (ce_id) DO NOTHING RETURNING ce_id"
            ),
            {
                "ce_id": [r.ce_id for r in rows],
                "ce_type": [r.ce_type for r in rows],
                "ce_source": [r.ce_source for r in rows],
                "account_id": [r.account_id for r in rows],
                "step_id": [r.step_id for r in rows],
                "kind": [r.kind for r in rows],
                "outcome": [r.outcome for r in rows],
                "occurred_at": [r.occurred_at for r in rows],
                "traceparent": [r.traceparent for r in rows],
                "payload": [r.payload for r in rows],
                "at": at,
            },
        )
        return set(result.all())

    async def upsert_decisions(self, folds: Iterable[DecisionFold], at: datetime) -> None:
        values = [
            {"step_id": f.step_id, "account_id": f.account_id, "debt_id": f.debt_id,
             "channel": f.channel, "stage": f.stage, "attempt": f.attempt,
             "destination": f.destination, "decision": f.decision, "rule_ids": list(f.rule_ids),
             "not_before": f.not_before, "policy_version": f.policy_version,
             "first_decided_at": f.first_decided_at, "decided_at": f.decided_at,
             "decisions": f.decisions, "created_at": at, "updated_at": at}
            for f in folds
        ]  # fmt: skip
        if not values:
            return
        stmt = pg_insert(_LOG)
        log, new = _LOG.c, stmt.excluded
        newer = (log.decided_at.is_(None)) | (new.decided_at >= log.decided_at)

        def latest(column: str) -> Any:
            return _case(newer, new[column], log[column])

        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["step_id"],
                set_={
                    "debt_id": func.coalesce(log.debt_id, new.debt_id),
                    "stage": func.coalesce(log.stage, new.stage),
                    "attempt": func.coalesce(log.attempt, new.attempt),
                    "destination": func.coalesce(log.destination, new.destination),
                    "decision": latest("decision"),
                    "rule_ids": latest("rule_ids"),
                    "not_before": latest("not_before"),
                    "policy_version": latest("policy_version"),
                    "decided_at": latest("decided_at"),
                    "first_decided_at": func.least(log.first_decided_at, new.first_decided_at),
                    "decisions": log.decisions + new.decisions,
                    "updated_at": new.updated_at,
                },
            ),
            values,
        )

    async def upsert_deliveries(self, folds: Iterable[DeliveryFold], at: datetime) -> None:
        values = [
            {"step_id": f.step_id, "account_id": f.account_id, "channel": f.channel,
             "delivery_status": f.status.value, "delivery_rank": f.rank, "status_at": f.status_at,
             "provider": f.provider, "provider_message_id": f.provider_message_id,
             "error_code": f.error_code, "error_detail": f.detail, "accepted_at": f.accepted_at,
             "sent_at": f.sent_at, "delivered_at": f.delivered_at, "failed_at": f.failed_at,
             "last_event_at": f.last_event_at, "created_at": at, "updated_at": at}
            for f in folds
        ]  # fmt: skip
        if not values:
            return
        stmt = pg_insert(_LOG)
        log, new = _LOG.c, stmt.excluded
        forward = new.delivery_rank > log.delivery_rank  # status only moves forward

        def advanced(column: str) -> Any:
            return _case(forward, new[column], log[column])

        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["step_id"],
                set_={
                    "delivery_status": advanced("delivery_status"),
                    "delivery_rank": func.greatest(log.delivery_rank, new.delivery_rank),
                    "status_at": advanced("status_at"),
                    "provider": advanced("provider"),
                    "error_code": advanced("error_code"),
                    "error_detail": advanced("error_detail"),
                    "provider_message_id": func.coalesce(
                        log.provider_message_id, new.provider_message_id
                    ),
                    "accepted_at": func.least(log.accepted_at, new.accepted_at),
                    "sent_at": func.least(log.sent_at, new.sent_at),
                    "delivered_at": func.least(log.delivered_at, new.delivered_at),
                    "failed_at": func.least(log.failed_at, new.failed_at),
                    "last_event_at": func.greatest(log.last_event_at, new.last_event_at),
                    "updated_at": new.updated_at,
                },
            ),
            values,
        )

    async def upsert_flags(self, changes: Iterable[FlagChange], at: datetime) -> None:
        values = [
            {"account_id": c.account_id, "flag": c.flag, "scope": c.scope, "active": c.active,
             "changed_at": c.changed_at, "signal_id": c.signal_id, "kind": c.kind,
             "source": c.source, "channel": c.channel, "detail": c.detail, "recorded_at": at}
            for c in changes
        ]  # fmt: skip
        if not values:
            return
        stmt = pg_insert(_FLAGS)
        flag, new = _FLAGS.c, stmt.excluded
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id", "flag", "scope"],
                set_={
                    name: new[name]
                    for name in (
                        "active",
                        "changed_at",
                        "signal_id",
                        "kind",
                        "source",
                        "channel",
                        "detail",
                        "recorded_at",
                    )
                },
                where=new.changed_at >= flag.changed_at,  # the latest signal wins
            ),
            values,
        )

    async def open_dispute(self, dispute: Dispute) -> None:
        await self.session.execute(
            pg_insert(Dispute)
            .values(
                dispute_id=dispute.dispute_id,
                account_id=dispute.account_id,
                debt_id=dispute.debt_id,
                signal_id=dispute.signal_id,
                source=dispute.source,
                detail=dispute.detail,
                opened_at=dispute.opened_at,
            )
            .on_conflict_do_nothing(index_elements=["dispute_id"])
        )

    async def verify_disputes(
        self, account_id: str, debt_id: str | None, at: datetime, by: str
    ) -> None:
        query = (
            update(Dispute)
            .where(
                Dispute.account_id == account_id,
                Dispute.verified_at.is_(None),
                Dispute.opened_at <= at,
            )
            .values(verified_at=at, verified_by=by)
        )
        if debt_id is not None:
            query = query.where((Dispute.debt_id == debt_id) | Dispute.debt_id.is_(None))
        await self.session.execute(query)

    # --- reads -------------------------------------------------------------------------

    async def flags_of(self, account_id: str) -> Sequence[ConsumerFlag]:
        result = await self.session.scalars(
            select(ConsumerFlag)
            .where(ConsumerFlag.account_id == account_id)
            .order_by(ConsumerFlag.flag, ConsumerFlag.scope)
        )
        return result.all()

    async def disputes_of(self, account_id: str) -> Sequence[Dispute]:
        result = await self.session.scalars(
            select(Dispute).where(Dispute.account_id == account_id).order_by(Dispute.opened_at)
        )
        return result.all()

    async def log_of(self, account_id: str) -> Sequence[CommunicationLog]:
        result = await self.session.scalars(
            select(CommunicationLog)
            .where(CommunicationLog.account_id == account_id)
            .order_by(
                func.coalesce(CommunicationLog.first_decided_at, CommunicationLog.created_at),
                CommunicationLog.step_id,
            )
        )
        return result.all()

    async def get_step(self, step_id: str) -> CommunicationLog | None:
        return await self.session.get(CommunicationLog, step_id)

    async def events_of_step(self, step_id: str) -> Sequence[CommunicationEvent]:
        result = await self.session.scalars(
            select(CommunicationEvent)
            .where(CommunicationEvent.step_id == step_id)
            .order_by(CommunicationEvent.occurred_at, CommunicationEvent.id)
        )
        return result.all()

    async def get_event(self, ce_id: str) -> CommunicationEvent | None:
        return (
            await self.session.scalars(
                select(CommunicationEvent).where(CommunicationEvent.ce_id == ce_id)
            )
        ).one_or_none()

    async def events_of(self, account_id: str) -> Sequence[CommunicationEvent]:
        result = await self.session.scalars(
            select(CommunicationEvent)
            .where(CommunicationEvent.account_id == account_id)
            .order_by(CommunicationEvent.occurred_at, CommunicationEvent.id)
        )
        return result.all()

    async def summary_counts(self) -> SummaryCounts:
        s = self.session
        accounts = await s.execute(select(Account.status, func.count()).group_by(Account.status))
        steps = await s.execute(
            select(CommunicationLog.decision, func.count())
            .where(CommunicationLog.decision.is_not(None))
            .group_by(CommunicationLog.decision)
        )
        rule = func.unnest(CommunicationLog.rule_ids).table_valued("rule_id").render_derived()
        rules = await s.execute(
            select(CommunicationLog.decision, rule.c.rule_id, func.count())
            .select_from(CommunicationLog)
            .join(rule, text("true"))
            .where(CommunicationLog.decision.in_(("block", "defer")))
            .group_by(CommunicationLog.decision, rule.c.rule_id)
        )
        deliveries = await s.execute(
            select(CommunicationLog.channel, CommunicationLog.delivery_status, func.count())
            .where(
                CommunicationLog.delivery_status.is_not(None)
                | (CommunicationLog.decision == "allow")
            )
            .group_by(CommunicationLog.channel, CommunicationLog.delivery_status)
        )
        payments = await s.execute(
            select(Payment.currency, func.count(), func.sum(Payment.amount_minor)).group_by(
                Payment.currency
            )
        )
        flags = await s.execute(
            select(ConsumerFlag.flag, func.count(func.distinct(ConsumerFlag.account_id)))
            .where(ConsumerFlag.active)
            .group_by(ConsumerFlag.flag)
        )
        pending, _ = await self.outbox_backlog()
        return SummaryCounts(
            accounts_by_status={r[0]: int(r[1]) for r in accounts},
            steps_by_decision={str(r[0]): int(r[1]) for r in steps},
            rule_hits=[(r[0], r[1], int(r[2])) for r in rules],
            deliveries=[(r[0], r[1], int(r[2])) for r in deliveries],
            payments=[(r[0], int(r[1]), int(r[2] or 0)) for r in payments],
            active_flags={r[0]: int(r[1]) for r in flags},
            outbox_pending=pending,
        )

    async def ping(self) -> None:
        await self.session.execute(text("SELECT 1"))


_LOG: Table = CommunicationLog.__table__  # type: ignore[assignment]
_FLAGS: Table = ConsumerFlag.__table__  # type: ignore[assignment]

_ACCOUNT_COLUMNS = (
    "account_id", "revision", "consumer", "debt", "debt_id", "currency",
    "imported_balance_minor", "paid_minor", "balance_minor", "status", "fingerprint",
    "created_at", "updated_at",
)  # fmt: skip


def _headers_json(headers: Sequence[tuple[str, bytes]]) -> str:
    return orjson.dumps([[name, value.decode()] for name, value in headers]).decode()


def _text_array(values: Sequence[str]) -> Any:
    """One array parameter instead of one parameter per value (``IN`` would expand)."""
    return bindparam("values", list(values), type_=ARRAY(Text))


def _case(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)
