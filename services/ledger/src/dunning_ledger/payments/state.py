"""An account's money rows read into the pure life cycle, and the result written back.

Every money use case locks the account first, reads its rows with ``load``, works on the
``MoneyState`` of ``state_of`` and writes it back with ``store`` (in the same transaction,
which also queues the events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from dunning_ledger.domain.lifecycle import Installment, MoneyState, Plan, Promise, Settlement
from dunning_ledger.domain.terms import PaymentTerms
from dunning_ledger.domain.timeline import Zone
from dunning_ledger.models import Account, PaymentPlan, PlanInstallment
from dunning_ledger.models import Promise as PromiseRow
from dunning_ledger.models import Settlement as SettlementRow
from dunning_ledger.ports import Transaction, UseCase

if TYPE_CHECKING:
    from dunning_ledger.domain.lifecycle import Allocation

_Value = TypeVar("_Value", Promise, Settlement)


@dataclass(eq=False)
class MoneyUseCase(UseCase):
    """A use case that also works with the payment terms it checks against and offers from."""

    terms: PaymentTerms


@dataclass(frozen=True, slots=True)
class MoneyRows:
    account: Account
    plans: Sequence[PaymentPlan]
    installments: Sequence[PlanInstallment]
    promises: Sequence[PromiseRow]
    settlements: Sequence[SettlementRow]

    def installments_of(self, plan_id: str) -> list[PlanInstallment]:
        return sorted((i for i in self.installments if i.plan_id == plan_id), key=lambda i: i.seq)

    def active_plan(self) -> PaymentPlan | None:
        # A plan agreed before installments were kept has none: it is not followed here.
        active = [p for p in self.plans if p.status == "active" and self.installments_of(p.plan_id)]
        return active[-1] if active else None

    def open_promise(self) -> PromiseRow | None:
        return next((p for p in reversed(self.promises) if p.status == "open"), None)

    def open_settlement(self) -> SettlementRow | None:
        return next((s for s in reversed(self.settlements) if s.status == "open"), None)


async def load(tx: Transaction, account: Account) -> MoneyRows:
    account_id = account.account_id
    return MoneyRows(
        account,
        await tx.payments.plans_of(account_id),
        await tx.payments.installments_of(account_id),
        await tx.payments.promises_of(account_id),
        await tx.payments.settlements_of(account_id),
    )


def local_today(account: Account, now: datetime) -> date:
    """The date in the consumer's zone: due dates are theirs."""
    zone = Zone.of(account.consumer.get("time_zones") or (), str(account.consumer.get("state", "")))
    try:
        return now.astimezone(ZoneInfo(zone.name)).date()
    except (KeyError, ValueError):
        return now.astimezone(UTC).date()


def state_of(rows: MoneyRows, named: Allocation | None = None) -> MoneyState:
    """The account's money; the arrangements ``named`` (those a payment's allocation paid,
    whatever their status now) or, where it names none, the open ones."""
    plan_id = promise_id = settlement_id = None
    if named is not None:
        plan_id, promise_id, settlement_id = named.plan_id, named.promise_id, named.settlement_id
    plan_row = (
        next((p for p in rows.plans if p.plan_id == plan_id), None)
        if plan_id
        else rows.active_plan()
    )
    promise_row = (
        next((p for p in rows.promises if p.promise_id == promise_id), None)
        if promise_id
        else rows.open_promise()
    )
    settlement_row = (
        next((s for s in rows.settlements if s.settlement_id == settlement_id), None)
        if settlement_id
        else rows.open_settlement()
    )
    plan = None
    if plan_row is not None:
        installments = tuple(installment_of(i) for i in rows.installments_of(plan_row.plan_id))
        plan = Plan(plan_row.plan_id, plan_row.status, installments)  # type: ignore[arg-type]
    promise = None if promise_row is None else _value_of(Promise, promise_row)
    settlement = None if settlement_row is None else _value_of(Settlement, settlement_row)
    return MoneyState(
        rows.account.balance_minor, rows.account.credit_minor or 0, plan, promise, settlement
    )


def installment_of(row: PlanInstallment) -> Installment:
    """The life cycle's installment of a stored one (missed once its miss was announced)."""
    missed = row.missed_at is not None
    return Installment(row.seq, row.due_on, row.amount_minor, row.paid_minor, missed)


def _value_of(value: type[_Value], row: object) -> _Value:
    """The life cycle's value read from the row's columns of the same names."""
    return value(**{f.name: getattr(row, f.name) for f in fields(value)})


def store(rows: MoneyRows, state: MoneyState, at: datetime) -> None:
    """Writes the arrangements of ``state`` into their rows (the account is the caller's)."""
    if state.plan is not None:
        plan_row = next(p for p in rows.plans if p.plan_id == state.plan.plan_id)
        if plan_row.status != state.plan.status:
            plan_row.status = state.plan.status
            plan_row.ended_at = None if state.plan.status == "active" else at
        by_seq = {i.seq: i for i in rows.installments_of(plan_row.plan_id)}
        for inst in state.plan.installments:
            row = by_seq[inst.seq]
            row.paid_minor = inst.paid_minor
            if inst.missed and row.missed_at is None:
                row.missed_at = at
    if state.promise is not None:
        promise_row = next(p for p in rows.promises if p.promise_id == state.promise.promise_id)
        if promise_row.status != state.promise.status:
            promise_row.ended_at = None if state.promise.status == "open" else at
        promise_row.paid_minor, promise_row.status = state.promise.paid_minor, state.promise.status
    if state.settlement is not None:
        s = state.settlement
        settlement_row = next(r for r in rows.settlements if r.settlement_id == s.settlement_id)
        if settlement_row.status != s.status:
            settlement_row.ended_at = None if s.status == "open" else at
        settlement_row.paid_minor, settlement_row.status = s.paid_minor, s.status
