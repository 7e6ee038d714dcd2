"""The communication log in PostgreSQL: processed-event marks, the audit trail, the
per-step log, consumer flags and disputes. The caller commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dunning_ledger.adapters.sql import SqlRepository, case_, text_array
from dunning_ledger.domain.communications import DecisionFold, DeliveryFold
from dunning_ledger.domain.flags import PAUSED_FLAG, FlagChange
from dunning_ledger.models import (
    CommunicationEvent,
    CommunicationLog,
    ConsumerFlag,
    Dispute,
    ProcessedEvent,
)
from dunning_ledger.ports import EventRow

_LOG: Table = CommunicationLog.__table__  # type: ignore[assignment]
_FLAGS: Table = ConsumerFlag.__table__  # type: ignore[assignment]


class SqlCommunicationRepository(SqlRepository):
    async def seen_events(self, group: str, ce_ids: Sequence[str]) -> set[str]:
        if not ce_ids:
            return set()
        rows = await self.session.scalars(
            select(ProcessedEvent.ce_id).where(
                ProcessedEvent.consumer_group == group,
                ProcessedEvent.ce_id == func.any(text_array(ce_ids)),
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
            {**asdict(f), "rule_ids": list(f.rule_ids), "created_at": at, "updated_at": at}
            for f in folds
        ]
        await self._upsert(_LOG, ["step_id"], values, _decided)

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
        await self._upsert(_LOG, ["step_id"], values, _delivered)

    async def upsert_flags(self, changes: Iterable[FlagChange], at: datetime) -> None:
        values = [{**asdict(c), "recorded_at": at} for c in changes]
        await self._upsert(
            _FLAGS,
            ["account_id", "flag", "scope"],
            values,
            lambda _, new: {name: new[name] for name in _FLAG_STATE},
            where=lambda flag, new: new.changed_at >= flag.changed_at,  # the latest signal wins
        )

    async def _upsert(
        self,
        table: Table,
        key: list[str],
        values: list[dict[str, Any]],
        changes: Callable[[Any, Any], dict[str, Any]],
        where: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        """INSERT ... ON CONFLICT (key) DO UPDATE SET ``changes(stored, new)``: what a stored
        row takes from the new one (only ``where`` it holds, when given)."""
        if not values:
            return
        stmt = pg_insert(table)
        stored, new = table.c, stmt.excluded
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=key,
                set_=changes(stored, new),
                where=None if where is None else where(stored, new),
            ),
            values,
        )

    async def record_author(self, ce_id: str, by: str) -> None:
        for model, column in ((CommunicationEvent, CommunicationEvent.ce_id),
                              (Dispute, Dispute.dispute_id)):  # fmt: skip
            await self.session.execute(update(model).where(column == ce_id).values(recorded_by=by))

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

    async def flags_of(self, account_id: str) -> Sequence[ConsumerFlag]:
        return await self._of_account(
            ConsumerFlag, account_id, ConsumerFlag.flag, ConsumerFlag.scope
        )

    async def active_pauses(self) -> Sequence[tuple[str, str, str | None]]:
        flag, event = ConsumerFlag, CommunicationEvent
        rows = await self.session.execute(
            select(flag.account_id, flag.signal_id, event.payload["details"]["until"].astext)
            .join(
                event,
                (event.account_id == flag.account_id)
                & (event.kind == "signal")
                & (event.outcome == flag.kind)
                & (event.payload["signal_id"].astext == flag.signal_id),
            )
            .where(flag.flag == PAUSED_FLAG, flag.active)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def disputes_of(self, account_id: str) -> Sequence[Dispute]:
        return await self._of_account(Dispute, account_id, Dispute.opened_at)

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
        return await self._of_account(
            CommunicationEvent, account_id, CommunicationEvent.occurred_at, CommunicationEvent.id
        )


# What a later signal's flag row replaces (the key stays: account, flag, scope).
_FLAG_STATE = (
    "active", "changed_at", "signal_id", "kind", "source", "channel", "detail", "recorded_at",
)  # fmt: skip


def _decided(log: Any, new: Any) -> dict[str, Any]:
    """A step's log row after another decision: the newer decision's verdict and findings,
    the first non-null facts about the step, the earliest decision instant, the count."""
    newer = (log.decided_at.is_(None)) | (new.decided_at >= log.decided_at)

    def latest(column: str) -> Any:
        return case_(newer, new[column], log[column])

    return {
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
    }


def _delivered(log: Any, new: Any) -> dict[str, Any]:
    """A step's log row after a delivery update: the status only moves forward; each
    milestone keeps its earliest instant."""
    forward = new.delivery_rank > log.delivery_rank

    def advanced(column: str) -> Any:
        return case_(forward, new[column], log[column])

    return {
        "delivery_status": advanced("delivery_status"),
        "delivery_rank": func.greatest(log.delivery_rank, new.delivery_rank),
        "status_at": advanced("status_at"),
        "provider": advanced("provider"),
        "error_code": advanced("error_code"),
        "error_detail": advanced("error_detail"),
        "provider_message_id": func.coalesce(log.provider_message_id, new.provider_message_id),
        "accepted_at": func.least(log.accepted_at, new.accepted_at),
        "sent_at": func.least(log.sent_at, new.sent_at),
        "delivered_at": func.least(log.delivered_at, new.delivered_at),
        "failed_at": func.least(log.failed_at, new.failed_at),
        "last_event_at": func.greatest(log.last_event_at, new.last_event_at),
        "updated_at": new.updated_at,
    }
