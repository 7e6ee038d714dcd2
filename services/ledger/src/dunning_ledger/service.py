"""The ledger's use cases. Each runs in one transaction that it commits itself.

Whatever a use case announces goes into the outbox in the same transaction as the
change it announces (accounts, payments, plans, operator signals), so nothing is
recorded without its event or announced without being recorded. Events consumed from
other services land in the communication log, the audit trail and the flags, together
with their ``processed_events`` mark: redelivery after a crash changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import asyncpg
from dunning_core.contracts.common import Channel, Money
from dunning_core.contracts.envelope import Envelope, encode, wrap
from dunning_core.contracts.events import (
    AccountOpened,
    AccountUpdated,
    ConsumerSignaled,
    DeliveryUpdated,
    Event,
    PaymentReceived,
    PlanAgreed,
    SignalKind,
    StepDecided,
)
from dunning_core.runtime.tracing import new_traceparent
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dunning_ledger.domain.accounts import AccountChange, debt_with_balance, plan_import, status_for
from dunning_ledger.domain.communications import fold_decisions, fold_deliveries
from dunning_ledger.domain.flags import OPERATOR_SIGNALS, fold_flags
from dunning_ledger.domain.import_rows import ValidatedImport
from dunning_ledger.domain.money import MoneyError, parse_minor
from dunning_ledger.domain.payments import (
    AccountTerms,
    PaymentInput,
    PlanInput,
    check_plan,
    remaining_after,
)
from dunning_ledger.domain.summary import build_summary
from dunning_ledger.errors import Conflict, ImportRejected, InvalidRequest, NotFound, Unavailable
from dunning_ledger.models import (
    Account,
    CommunicationEvent,
    CommunicationLog,
    ConsumerFlag,
    Dispute,
    Payment,
    PaymentPlan,
)
from dunning_ledger.ports import Clock
from dunning_ledger.repository import AccountRow, EventRow, LedgerRepository, OutboxRow

log = logging.getLogger(__name__)

SERVICE = "ledger"
PaymentMethod = Literal["card", "ach", "check", "cash", "other"]


@dataclass(frozen=True, slots=True)
class ImportCounts:
    received: int
    opened: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class PaymentCommand:
    payment_id: str
    amount: str
    currency: str | None = None
    debt_id: str | None = None
    method: PaymentMethod = "other"
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanCommand:
    plan_id: str
    instalment: str
    instalments: int
    first_due: date
    currency: str | None = None
    debt_id: str | None = None


@dataclass(frozen=True, slots=True)
class SignalCommand:
    signal_id: str
    kind: SignalKind
    text: str | None = None
    channel: Channel | None = None
    address: str | None = None
    debt_id: str | None = None
    occurred_at: datetime | None = None
    details: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment: Payment
    replayed: bool


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: PaymentPlan
    replayed: bool


@dataclass(frozen=True, slots=True)
class SignalResult:
    account_id: str
    signal_id: str
    kind: str
    ce_id: str
    occurred_at: datetime
    replayed: bool


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    flags: Sequence[ConsumerFlag]
    disputes: Sequence[Dispute]
    payments: Sequence[Payment]
    plans: Sequence[PaymentPlan]


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


class LedgerService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        topic_prefix: str = "",
        group_id: str = "ledger",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.topic_prefix = topic_prefix
        self.group_id = group_id

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[LedgerRepository]:
        """One transaction, committed on success; a lost database is ``Unavailable``."""
        try:
            async with self.sessions.begin() as session:
                yield LedgerRepository(session)
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
            raise Unavailable(f"the database is unreachable: {exc}") from exc
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            raise Unavailable(f"the database is unreachable: {exc.orig or exc}") from exc

    def _record(self, event: Event, at: datetime) -> OutboxRow:
        key, value, headers = encode(wrap(event, SERVICE, time=at, traceparent=new_traceparent()))
        return OutboxRow(self.topic_prefix + event.topic, key, value, headers)

    # --- accounts ----------------------------------------------------------------------

    async def import_accounts(self, validated: ValidatedImport) -> ImportCounts:
        """All rows or none: a file with any error imports nothing."""
        if not validated.ok:
            raise ImportRejected(validated.errors, validated.received)
        now = self.clock.now()
        try:
            async with self._transaction() as repo:
                stored = await repo.lock_accounts([a.account_id for a in validated.accounts])
                plan = plan_import(validated.accounts, stored)
                outbox = [self._account_event(c, now, opened=True) for c in plan.opened]
                outbox += [self._account_event(c, now, opened=False) for c in plan.updated]
                await repo.insert_accounts([_account_row(c, now) for c in plan.opened])
                await repo.update_accounts([_account_row(c, now) for c in plan.updated])
                await repo.add_outbox(outbox)
        except (asyncpg.UniqueViolationError, sa_exc.IntegrityError) as exc:
            raise Conflict(
                "another import created some of these accounts at the same time; retry"
            ) from exc
        counts = ImportCounts(
            received=len(validated.accounts),
            opened=len(plan.opened),
            updated=len(plan.updated),
            unchanged=len(plan.unchanged),
        )
        log.info(
            "accounts imported",
            extra={
                "opened": counts.opened,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
            },
        )
        return counts

    def _account_event(self, change: AccountChange, at: datetime, *, opened: bool) -> OutboxRow:
        account = change.account
        debt = debt_with_balance(account.debt, change.balance_minor)
        event: Event
        if opened:
            event = AccountOpened(
                account_id=account.account_id,
                revision=change.revision,
                consumer=account.consumer,
                debt=debt,
                opened_at=at,
            )
        else:
            event = AccountUpdated(
                account_id=account.account_id,
                revision=change.revision,
                consumer=account.consumer,
                debt=debt,
                updated_at=at,
            )
        return self._record(event, at)

    async def account(self, account_id: str) -> AccountView:
        async with self._transaction() as repo:
            account = await repo.get_account(account_id)
            if account is None:
                raise NotFound(f"no account {account_id!r}")
            return AccountView(
                account=account,
                flags=await repo.flags_of(account_id),
                disputes=await repo.disputes_of(account_id),
                payments=await repo.payments_of(account_id),
                plans=await repo.plans_of(account_id),
            )

    # --- payments and plans ------------------------------------------------------------

    async def record_payment(self, account_id: str, command: PaymentCommand) -> PaymentResult:
        """Idempotent by ``payment_id``: a replay returns the payment first recorded."""
        now = self.clock.now()
        async with self._transaction() as repo:
            # The account row lock serialises payments of one account (and their events).
            account = await _locked(repo, account_id)
            payment = PaymentInput(
                payment_id=command.payment_id,
                debt_id=command.debt_id,
                amount_minor=_minor(command.amount, command.currency or account.currency),
                currency=command.currency or account.currency,
                method=command.method,
                received_at=command.received_at or now,
            )
            existing = await repo.get_payment(command.payment_id)
            if existing is not None:
                if (
                    existing.account_id != account_id
                    or existing.amount_minor != payment.amount_minor
                    or existing.currency != payment.currency
                    or (payment.debt_id not in (None, existing.debt_id))
                ):
                    raise Conflict(
                        f"payment {command.payment_id!r} was already recorded with other details"
                    )
                return PaymentResult(existing, replayed=True)
            remaining = remaining_after(_terms(account), payment)
            paid = account.paid_minor + payment.amount_minor
            row = Payment(
                payment_id=payment.payment_id,
                account_id=account_id,
                debt_id=account.debt_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                method=payment.method,
                remaining_balance_minor=remaining,
                received_at=payment.received_at,
                recorded_at=now,
            )
            await repo.add_payment(row)
            await repo.set_balance(
                account_id,
                balance_minor=remaining,
                paid_minor=paid,
                status=status_for(remaining),
                at=now,
            )
            event = PaymentReceived(
                account_id=account_id,
                payment_id=payment.payment_id,
                debt_id=account.debt_id,
                amount=Money(amount_minor=payment.amount_minor, currency=payment.currency),
                remaining_balance=Money(amount_minor=remaining, currency=payment.currency),
                received_at=payment.received_at,
                method=command.method,
            )
            await repo.add_outbox([self._record(event, now)])
            return PaymentResult(row, replayed=False)

    async def agree_plan(self, account_id: str, command: PlanCommand) -> PlanResult:
        """Idempotent by ``plan_id``."""
        now = self.clock.now()
        async with self._transaction() as repo:
            account = await _locked(repo, account_id)
            currency = command.currency or account.currency
            plan = PlanInput(
                plan_id=command.plan_id,
                debt_id=command.debt_id,
                instalment_minor=_minor(command.instalment, currency),
                currency=currency,
                instalments=command.instalments,
                first_due=command.first_due,
            )
            existing = await repo.get_plan(command.plan_id)
            if existing is not None:
                if (
                    existing.account_id != account_id
                    or existing.instalment_minor != plan.instalment_minor
                    or existing.instalments != plan.instalments
                    or existing.first_due != plan.first_due
                ):
                    raise Conflict(f"plan {command.plan_id!r} was already agreed with other terms")
                return PlanResult(existing, replayed=True)
            debt_id = check_plan(_terms(account), plan)
            row = PaymentPlan(
                plan_id=plan.plan_id,
                account_id=account_id,
                debt_id=debt_id,
                instalment_minor=plan.instalment_minor,
                currency=currency,
                instalments=plan.instalments,
                first_due=plan.first_due,
                agreed_at=now,
            )
            await repo.add_plan(row)
            event = PlanAgreed(
                account_id=account_id,
                plan_id=plan.plan_id,
                debt_id=debt_id,
                instalment=Money(amount_minor=plan.instalment_minor, currency=currency),
                instalments=plan.instalments,
                first_due=plan.first_due,
                agreed_at=now,
            )
            await repo.add_outbox([self._record(event, now)])
            return PlanResult(row, replayed=False)

    # --- signals -----------------------------------------------------------------------

    async def record_signal(self, account_id: str, command: SignalCommand) -> SignalResult:
        """An operator's signal: applied here at once, and announced (idempotent by id)."""
        if command.kind not in OPERATOR_SIGNALS:
            allowed = ", ".join(sorted(k.value for k in OPERATOR_SIGNALS))
            raise InvalidRequest(f"operators cannot enter {command.kind.value!r}; use {allowed}")
        now = self.clock.now()
        async with self._transaction() as repo:
            account = await _locked(repo, account_id)
            debt_id = command.debt_id
            if debt_id is None and command.kind in _DEBT_SIGNALS:
                debt_id = account.debt_id
            try:
                event = ConsumerSignaled(
                    account_id=account_id,
                    signal_id=command.signal_id,
                    kind=command.kind,
                    channel=command.channel,
                    address=command.address,
                    debt_id=debt_id,
                    text=command.text,
                    source="operator",
                    occurred_at=command.occurred_at or now,
                    details=command.details or {},
                )
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from exc
            envelope = wrap(event, SERVICE, time=now, traceparent=new_traceparent())
            # Marked processed by the ledger's own group: the echo from Kafka is a no-op.
            fresh = await self._apply(repo, self.group_id, [envelope], now)
            if not fresh:
                stored = await repo.get_event(envelope.id)
                occurred = stored.occurred_at if stored else event.occurred_at
                return SignalResult(
                    account_id, command.signal_id, command.kind.value, envelope.id, occurred, True
                )
            key, value, headers = encode(envelope)
            await repo.add_outbox([OutboxRow(self.topic_prefix + event.topic, key, value, headers)])
            return SignalResult(
                account_id, command.signal_id, command.kind.value, envelope.id,
                event.occurred_at, False,
            )  # fmt: skip

    # --- consumed events ---------------------------------------------------------------

    async def record_events(self, group: str, envelopes: Sequence[Envelope]) -> int:
        """Apply a consumed batch in one transaction; returns how many were new."""
        now = self.clock.now()
        async with self._transaction() as repo:
            return len(await self._apply(repo, group, envelopes, now))

    async def seen_events(self, group: str, ce_ids: Sequence[str]) -> set[str]:
        async with self._transaction() as repo:
            return await repo.seen_events(group, ce_ids)

    async def _apply(
        self, repo: LedgerRepository, group: str, envelopes: Sequence[Envelope], now: datetime
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

    # --- reads -------------------------------------------------------------------------

    async def communications(self, account_id: str, *, with_events: bool) -> CommunicationsView:
        async with self._transaction() as repo:
            if await repo.get_account(account_id) is None:
                raise NotFound(f"no account {account_id!r}")
            steps = await repo.log_of(account_id)
            events = await repo.events_of(account_id) if with_events else None
            return CommunicationsView(account_id, steps, events)

    async def step(self, step_id: str) -> StepView:
        async with self._transaction() as repo:
            step = await repo.get_step(step_id)
            if step is None:
                raise NotFound(f"no step {step_id!r}")
            events = await repo.events_of_step(step_id)
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

    async def summary(self) -> dict[str, Any]:
        async with self._transaction() as repo:
            return build_summary(await repo.summary_counts())

    async def health(self) -> dict[str, Any]:
        async with self._transaction() as repo:
            await repo.ping()
            pending, oldest = await repo.outbox_backlog()
        age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
        return {"ok": True, "outbox_pending": pending, "outbox_oldest_s": round(age, 1)}


_DEBT_SIGNALS = frozenset({SignalKind.DISPUTED, SignalKind.DISPUTE_VERIFIED})


async def _locked(repo: LedgerRepository, account_id: str) -> Account:
    account = await repo.get_account(account_id, for_update=True)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    return account


def _terms(account: Account) -> AccountTerms:
    return AccountTerms(
        account.account_id, account.debt_id, account.currency, account.balance_minor
    )


def _minor(amount: str, currency: str) -> int:
    try:
        return parse_minor(amount, currency)
    except MoneyError as exc:
        raise InvalidRequest(str(exc)) from exc


def _account_row(change: AccountChange, at: datetime) -> AccountRow:
    account = change.account
    return AccountRow(
        account_id=account.account_id,
        revision=change.revision,
        consumer=account.consumer_json,
        debt=account.debt_json,
        debt_id=account.debt.debt_id,
        currency=account.debt.balance.currency,
        imported_balance_minor=account.debt.balance.amount_minor,
        balance_minor=change.balance_minor,
        status=change.status,
        fingerprint=account.fingerprint,
        at=at,
    )


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
