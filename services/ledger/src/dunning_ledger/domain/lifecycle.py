"""Money with a life cycle (pure): a payment applied to the balance, the active plan's
installments, an open promise and an open settlement; a reversal taking back exactly what
that payment did; due dates passing.

A payment counts toward every open arrangement at once (paying an installment also keeps a
promise); what goes beyond the balance is a credit, never refused. A paid settlement
forgives the rest of the balance. ``reverse(apply(state, p)) == state``: the allocation a
payment records is what its reversal takes back, so installments it paid are unpaid again
whatever was paid since.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

InstallmentStatus = Literal["due", "paid", "partly_paid", "missed"]
PlanStatus = Literal["active", "broken", "completed"]
PromiseStatus = Literal["open", "kept", "broken"]
SettlementStatus = Literal["open", "paid", "lapsed"]


@dataclass(frozen=True, slots=True)
class Installment:
    seq: int
    due_on: date
    amount_minor: int
    paid_minor: int = 0
    missed: bool = False  # set once, by the periodic pass, when it was announced

    @property
    def unpaid_minor(self) -> int:
        return max(0, self.amount_minor - self.paid_minor)

    @property
    def status(self) -> InstallmentStatus:
        if self.paid_minor >= self.amount_minor:
            return "paid"
        if self.missed:
            return "missed"
        return "partly_paid" if self.paid_minor > 0 else "due"


@dataclass(frozen=True, slots=True)
class Plan:
    plan_id: str
    status: PlanStatus
    installments: tuple[Installment, ...]

    @property
    def missed_count(self) -> int:
        return sum(1 for i in self.installments if i.missed)


@dataclass(frozen=True, slots=True)
class Promise:
    promise_id: str
    amount_minor: int
    due_on: date
    paid_minor: int = 0
    status: PromiseStatus = "open"


@dataclass(frozen=True, slots=True)
class Settlement:
    settlement_id: str
    amount_minor: int
    pay_by: date
    paid_minor: int = 0
    status: SettlementStatus = "open"


@dataclass(frozen=True, slots=True)
class MoneyState:
    """One account's money: balance, credit, and the arrangements a payment may touch."""

    balance_minor: int
    credit_minor: int = 0
    plan: Plan | None = None
    promise: Promise | None = None
    settlement: Settlement | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one payment did; stored with it, and what its reversal takes back."""

    to_balance: int = 0
    credit: int = 0
    forgiven: int = 0  # the rest of the balance a paid settlement waived
    plan_id: str | None = None
    installments: tuple[tuple[int, int], ...] = ()  # (seq, minor units)
    promise_id: str | None = None
    promise_minor: int = 0
    settlement_id: str | None = None
    settlement_minor: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "to_balance": self.to_balance, "credit": self.credit, "forgiven": self.forgiven,
            "plan_id": self.plan_id, "installments": [list(i) for i in self.installments],
            "promise_id": self.promise_id, "promise_minor": self.promise_minor,
            "settlement_id": self.settlement_id, "settlement_minor": self.settlement_minor,
        }  # fmt: skip

    @classmethod
    def of_json(cls, data: dict[str, object]) -> Allocation:
        pairs = data.get("installments") or []
        assert isinstance(pairs, list)
        return cls(
            to_balance=int(str(data.get("to_balance", 0))),
            credit=int(str(data.get("credit", 0))),
            forgiven=int(str(data.get("forgiven", 0))),
            plan_id=None if data.get("plan_id") is None else str(data["plan_id"]),
            installments=tuple((int(s), int(a)) for s, a in pairs),
            promise_id=None if data.get("promise_id") is None else str(data["promise_id"]),
            promise_minor=int(str(data.get("promise_minor", 0))),
            settlement_id=None if data.get("settlement_id") is None else str(data["settlement_id"]),
            settlement_minor=int(str(data.get("settlement_minor", 0))),
        )


@dataclass(frozen=True, slots=True)
class Applied:
    state: MoneyState
    allocation: Allocation
    plan_completed: bool = False
    promise_kept: bool = False
    settlement_paid: bool = False
    settled: bool = False  # the balance reached zero with this payment


def apply_payment(state: MoneyState, amount_minor: int) -> Applied:
    to_balance = min(amount_minor, state.balance_minor)
    credit = amount_minor - to_balance
    balance = state.balance_minor - to_balance
    plan, completed = state.plan, False
    paid_seqs: tuple[tuple[int, int], ...] = ()
    if plan is not None and plan.status == "active" and plan.installments and to_balance:
        left, new, paid = to_balance, [], []
        for inst in plan.installments:
            take = min(left, inst.unpaid_minor)
            if take:
                left -= take
                paid.append((inst.seq, take))
                inst = replace(inst, paid_minor=inst.paid_minor + take)
            new.append(inst)
        completed = all(i.status == "paid" for i in new)
        plan = replace(plan, installments=tuple(new), status="completed" if completed else "active")
        paid_seqs = tuple(paid)
    promise, kept = state.promise, False
    if promise is not None and promise.status == "open" and to_balance:
        promise = replace(promise, paid_minor=promise.paid_minor + to_balance)
        kept = promise.paid_minor >= promise.amount_minor
        promise = replace(promise, status="kept") if kept else promise
    settlement, settled_by_offer, forgiven = state.settlement, False, 0
    if settlement is not None and settlement.status == "open" and to_balance:
        settlement = replace(settlement, paid_minor=settlement.paid_minor + to_balance)
        if settlement.paid_minor >= settlement.amount_minor:
            settled_by_offer, forgiven = True, balance
            settlement = replace(settlement, status="paid")
            balance = 0
    touched_promise = promise is not None and promise is not state.promise
    touched_settlement = settlement is not None and settlement is not state.settlement
    allocation = Allocation(
        to_balance=to_balance,
        credit=credit,
        forgiven=forgiven,
        plan_id=plan.plan_id if paid_seqs and plan is not None else None,
        installments=paid_seqs,
        promise_id=promise.promise_id if touched_promise and promise is not None else None,
        promise_minor=to_balance if touched_promise else 0,
        settlement_id=settlement.settlement_id
        if touched_settlement and settlement is not None
        else None,
        settlement_minor=to_balance if touched_settlement else 0,
    )
    after = MoneyState(balance, state.credit_minor + credit, plan, promise, settlement)
    return Applied(
        after,
        allocation,
        plan_completed=completed,
        promise_kept=kept,
        settlement_paid=settled_by_offer,
        settled=state.balance_minor > 0 and balance == 0,
    )


def reverse_payment(state: MoneyState, allocation: Allocation) -> MoneyState:
    """The state without what the payment did; kept/paid/completed arrangements reopen."""
    plan = state.plan
    if plan is not None and allocation.plan_id == plan.plan_id:
        taken = dict(allocation.installments)
        plan = replace(
            plan,
            installments=tuple(
                replace(i, paid_minor=i.paid_minor - taken.get(i.seq, 0)) for i in plan.installments
            ),
            status="active" if plan.status == "completed" else plan.status,
        )
    promise = state.promise
    if promise is not None and allocation.promise_id == promise.promise_id:
        promise = replace(
            promise,
            paid_minor=promise.paid_minor - allocation.promise_minor,
            status="open" if promise.status == "kept" else promise.status,
        )
    settlement = state.settlement
    if settlement is not None and allocation.settlement_id == settlement.settlement_id:
        settlement = replace(
            settlement,
            paid_minor=settlement.paid_minor - allocation.settlement_minor,
            status="open" if settlement.status == "paid" else settlement.status,
        )
    return MoneyState(
        state.balance_minor + allocation.to_balance + allocation.forgiven,
        state.credit_minor - allocation.credit,
        plan,
        promise,
        settlement,
    )


@dataclass(frozen=True, slots=True)
class Overdue:
    """What a due date passing did to an account's arrangements."""

    state: MoneyState
    missed: tuple[Installment, ...] = ()  # newly missed
    missed_counts: tuple[int, ...] = ()  # the plan's missed count as each was missed
    plan_broken: bool = False
    promise_broken: bool = False
    settlement_lapsed: bool = False


def pass_due_dates(
    state: MoneyState, today: date, grace_days: int, missed_to_break: int
) -> Overdue:
    """Installments missed ``grace_days`` after their due date, the plan broken at
    ``missed_to_break`` misses, a promise broken after its date, a settlement lapsed after
    its pay-by date. Each only once: what is already marked stays as it is."""
    plan, missed, counts, broken = state.plan, [], [], False
    if plan is not None and plan.status == "active":
        count, new = plan.missed_count, []
        for inst in plan.installments:
            late = inst.due_on + timedelta(days=grace_days) < today
            if late and not inst.missed and inst.status != "paid" and not broken:
                count += 1
                inst = replace(inst, missed=True)
                missed.append(inst)
                counts.append(count)
                broken = count >= missed_to_break
            new.append(inst)
        plan = replace(plan, installments=tuple(new), status="broken" if broken else "active")
    promise, promise_broken = state.promise, False
    if promise is not None and promise.status == "open" and promise.due_on < today:
        promise, promise_broken = replace(promise, status="broken"), True
    settlement, lapsed = state.settlement, False
    if settlement is not None and settlement.status == "open" and settlement.pay_by < today:
        settlement, lapsed = replace(settlement, status="lapsed"), True
    return Overdue(
        replace(state, plan=plan, promise=promise, settlement=settlement),
        tuple(missed),
        tuple(counts),
        broken,
        promise_broken,
        lapsed,
    )
