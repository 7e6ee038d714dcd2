"""The communication log's use cases: operator signals, consumed events, and reads.

Events consumed from other services land in the communication log, the audit trail and
the flags, together with their ``processed_events`` mark, in one transaction: redelivery
after a crash changes nothing. An operator's signal is applied at once the same way and
announced through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryUpdated,
    SignalKind,
    StepDecided,
)

from dunning_ledger.accounts.service import envelope_of, existing_account, locked_account, terms_of
from dunning_ledger.communications.schemas import SignalIn, SignalOut
from dunning_ledger.domain.communications import fold_decisions, fold_deliveries
from dunning_ledger.domain.flags import OPERATOR_SIGNALS, contact_address, fold_flags
from dunning_ledger.domain.payments import check_debt_id
from dunning_ledger.errors import InvalidRequest, NotFound
from dunning_ledger.models import CommunicationEvent, CommunicationLog, Dispute
from dunning_ledger.ports import (
    ChannelsApplied,
    CommunicationRepository,
    EventRow,
    Published,
    UseCase,
)
from dunning_ledger.tasks.service import open_reply_tasks

_DEBT_SIGNALS = frozenset({SignalKind.DISPUTED, SignalKind.DISPUTE_VERIFIED})


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CommunicationsView:
    account_id: str
    steps: Sequence[CommunicationLog]
    events: Sequence[CommunicationEvent] | None


@dataclass(frozen=True, slots=True)
class StepView:
    """One step's log row with every decision and delivery event recorded for it, in time order."""

    step: CommunicationLog
    decisions: Sequence[StepDecided]
    deliveries: Sequence[DeliveryUpdated]


@dataclass(eq=False)
class CommunicationService(UseCase):
    _: KW_ONLY
    group_id: str
    published: Published | None = None
    applied: ChannelsApplied | None = None

    async def record_signal(
        self,
        account_id: str,
        body: SignalIn,
        recorded_by: str | None = None,
        kinds: frozenset[SignalKind] = OPERATOR_SIGNALS,
    ) -> SignalOut:
        """An operator's signal: applied here at once, and announced (idempotent by id).

        ``recorded_by``, the API key's principal, is kept on its event and dispute rows;
        ``kinds`` are those the caller may enter (the pause routes pass theirs)."""
        if body.kind not in kinds:
            allowed = ", ".join(sorted(k.value for k in kinds))
            raise InvalidRequest(f"operators cannot enter {body.kind.value!r}; use {allowed}")
        now = self.clock.now()
        async with self.transactions() as tx:
            account = await locked_account(tx, account_id)
            debt_id = body.debt_id
            if debt_id is not None:
                check_debt_id(terms_of(account), debt_id)
            elif body.kind in _DEBT_SIGNALS:
                debt_id = account.debt_id
            address = body.address and contact_address(body.address, body.channel)
            try:
                event = ConsumerSignaled(
                    account_id=account_id,
                    signal_id=body.signal_id,
                    kind=body.kind,
                    channel=body.channel,
                    address=address,
                    debt_id=debt_id,
                    text=body.text,
                    source="operator",
                    occurred_at=body.occurred_at or now,
                    details=body.details,
                )
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from exc
            envelope = envelope_of(event, now)
            # Marked processed by the ledger's own group: the echo from Kafka is a no-op.
            fresh = await _apply(tx.communications, self.group_id, [envelope], now)
            occurred = event.occurred_at
            if fresh:
                await tx.outbox.announce([envelope])
                if recorded_by is not None:
                    await tx.communications.record_author(envelope.id, recorded_by)
            else:
                stored = await tx.communications.get_event(envelope.id)
                occurred = stored.occurred_at if stored else event.occurred_at
                recorded_by = stored.recorded_by if stored else None
            await tx.commit()
        # Answered once on Kafka (a replay too): a dispute or cease the operator saw accepted
        # is then one the channel workers' signals barrier holds every later send behind;
        # and once they applied it, no message already on its way can still arrive after.
        applied = None
        if self.published is not None and not await self.published.published(account_id):
            log.warning("signal recorded, not yet on Kafka", extra={"signal_id": body.signal_id})
        elif self.applied is not None:
            applied = await self.applied.applied(account_id)
        return SignalOut(
            account_id=account_id,
            signal_id=body.signal_id,
            kind=body.kind.value,
            ce_id=envelope.id,
            occurred_at=occurred,
            recorded_by=recorded_by,
            replayed=not fresh,
            applied=applied,
        )

    async def record_events(self, group: str, envelopes: Sequence[Envelope]) -> int:
        """Apply a consumed batch in one transaction; returns how many were new."""
        now = self.clock.now()
        async with self.transactions() as tx:
            fresh = await _apply(tx.communications, group, envelopes, now)
            # A reply that needs a person opens its agent task in the same transaction.
            await open_reply_tasks(tx, fresh, now)
            await tx.commit()
        return len(fresh)

    async def seen_events(self, group: str, ce_ids: Sequence[str]) -> set[str]:
        async with self.transactions() as tx:
            seen = await tx.communications.seen_events(group, ce_ids)
            await tx.commit()
        return seen

    async def communications(self, account_id: str, *, with_events: bool) -> CommunicationsView:
        async with self.transactions() as tx:
            await existing_account(tx, account_id)
            steps = await tx.communications.log_of(account_id)
            events = await tx.communications.events_of(account_id) if with_events else None
            await tx.commit()
        return CommunicationsView(account_id, steps, events)

    async def step(self, step_id: str) -> StepView:
        async with self.transactions() as tx:
            step = await tx.communications.get_step(step_id)
            if step is None:
                raise NotFound(f"no step {step_id!r}")
            events = await tx.communications.events_of_step(step_id)
            await tx.commit()
        # The payloads are the events as consumed; reading them back through the contract
        # models types them again (v1 only adds optional fields, so old rows still read).
        return StepView(
            step=step,
            decisions=[
                StepDecided.model_validate(e.payload) for e in events if e.kind == "decision"
            ],
            deliveries=[
                DeliveryUpdated.model_validate(e.payload) for e in events if e.kind == "delivery"
            ],
        )


async def _apply(
    repo: CommunicationRepository, group: str, envelopes: Sequence[Envelope], now: datetime
) -> list[Envelope]:
    unique = list({e.id: e for e in reversed(envelopes)}.values())[::-1]
    claimed = await repo.claim_events(group, [e.id for e in unique], now)
    candidates = [e for e in unique if e.id in claimed]
    # The audit trail's unique ce_id is the last word: an event it already holds (say,
    # read again under a renamed consumer group) has had its effects already.
    appended = await repo.append_events([_event_row(e) for e in candidates], now)
    fresh = [e for e in candidates if e.id in appended]
    if not fresh:
        return []
    decisions = [e.data for e in fresh if isinstance(e.data, StepDecided)]
    deliveries = [e.data for e in fresh if isinstance(e.data, DeliveryUpdated)]
    signals = [(e.id, e.data) for e in fresh if isinstance(e.data, ConsumerSignaled)]
    await repo.upsert_decisions(fold_decisions(decisions).values(), now)
    await repo.upsert_deliveries(fold_deliveries(deliveries).values(), now)
    await repo.upsert_flags(fold_flags(s for _, s in signals), now)
    for ce_id, signal in sorted(signals, key=lambda p: p[1].occurred_at):
        if signal.kind is SignalKind.DISPUTED:
            await repo.open_dispute(
                Dispute(
                    dispute_id=ce_id,
                    account_id=signal.account_id,
                    debt_id=signal.debt_id,
                    signal_id=signal.signal_id,
                    source=signal.source,
                    detail=signal.text,
                    opened_at=signal.occurred_at,
                )
            )
        elif signal.kind is SignalKind.DISPUTE_VERIFIED:
            await repo.verify_disputes(
                signal.account_id, signal.debt_id, signal.occurred_at, signal.signal_id
            )
    return fresh


def _event_row(envelope: Envelope) -> EventRow:
    data = envelope.data
    step_id: str | None = None
    if isinstance(data, StepDecided):
        kind, outcome, at, step_id = "decision", data.decision.value, data.decided_at, data.step_id
    elif isinstance(data, DeliveryUpdated):
        kind, outcome, at, step_id = "delivery", data.status.value, data.occurred_at, data.step_id
    elif isinstance(data, ConsumerSignaled):
        kind, outcome, at = "signal", data.kind.value, data.occurred_at
    else:
        kind, outcome, at = "other", envelope.type, envelope.time
    return EventRow(
        ce_id=envelope.id,
        ce_type=envelope.type,
        ce_source=envelope.source,
        account_id=data.account_id,
        step_id=step_id,
        kind=kind,
        outcome=outcome,
        occurred_at=at,
        traceparent=envelope.traceparent,
        payload=data.model_dump_json(),
    )
