"""Builders of valid payments.v1 events for the scheduler's tests (account ACC-1, debt DEBT-1).

The defaults make one story: a three-installment monthly plan agreed at ``NOW`` whose
first installment falls due two weeks later.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dunning_core.contracts.common import Money
from dunning_core.contracts.payments import (
    AccountReopened,
    AccountSettled,
    Installment,
    InstallmentMissed,
    PlanAgreed,
    PlanBroken,
    PlanCompleted,
    PromiseBroken,
    PromiseMade,
    SettlementAgreed,
    SettlementLapsed,
)
from dunning_testkit.scheduler import NOW

FIRST_DUE = date(2026, 3, 16)
DUES = (FIRST_DUE, date(2026, 4, 16), date(2026, 5, 16))
PROMISED_BY = date(2026, 3, 10)  # the promise's due date and the settlement's pay-by date


def plan_agreed(
    account_id: str = "ACC-1",
    *,
    plan_id: str = "PLAN-1",
    dues: tuple[date, ...] = DUES,
    amount_minor: int = 41_152,
    with_schedule: bool = True,
    at: datetime = NOW,
) -> PlanAgreed:
    schedule = [
        Installment(seq=n, due_on=due, amount=Money(amount_minor=amount_minor))
        for n, due in enumerate(dues, start=1)
    ]
    return PlanAgreed(
        account_id=account_id,
        plan_id=plan_id,
        debt_id="DEBT-1",
        instalment=Money(amount_minor=amount_minor),
        instalments=len(dues),
        first_due=dues[0],
        agreed_at=at,
        frequency="monthly",
        total=Money(amount_minor=amount_minor * len(dues)),
        schedule=schedule if with_schedule else [],
        source="page",
    )


def installment_missed(
    seq: int = 1, account_id: str = "ACC-1", *, at: datetime = NOW + timedelta(days=17)
) -> InstallmentMissed:
    return InstallmentMissed(
        account_id=account_id,
        plan_id="PLAN-1",
        debt_id="DEBT-1",
        seq=seq,
        due_on=FIRST_DUE,
        amount_due=Money(amount_minor=41_152),
        amount_paid=Money(amount_minor=1_152),
        missed_count=1,
        detected_at=at,
    )


def plan_broken(
    account_id: str = "ACC-1", *, plan_id: str = "PLAN-1", at: datetime = NOW + timedelta(days=48)
) -> PlanBroken:
    return PlanBroken(
        account_id=account_id,
        plan_id=plan_id,
        debt_id="DEBT-1",
        missed_count=2,
        remaining_balance=Money(amount_minor=123_456),
        broken_at=at,
    )


def plan_completed(*, by_payment_id: str = "PAY-3") -> PlanCompleted:
    return PlanCompleted(
        account_id="ACC-1",
        plan_id="PLAN-1",
        debt_id="DEBT-1",
        completed_at=NOW + timedelta(days=75),
        by_payment_id=by_payment_id,
    )


def promise_made() -> PromiseMade:
    return PromiseMade(
        account_id="ACC-1",
        promise_id="PROM-1",
        debt_id="DEBT-1",
        amount=Money(amount_minor=50_000),
        due_on=PROMISED_BY,
        made_at=NOW,
    )


def promise_broken(*, at: datetime = NOW + timedelta(days=9)) -> PromiseBroken:
    """The promise made, nothing paid by its due date."""
    made = promise_made()
    return PromiseBroken(
        account_id=made.account_id,
        promise_id=made.promise_id,
        debt_id=made.debt_id,
        due_on=made.due_on,
        amount_paid=Money(amount_minor=0),
        broken_at=at,
    )


def settlement_agreed() -> SettlementAgreed:
    return SettlementAgreed(
        account_id="ACC-1",
        settlement_id="SET-1",
        debt_id="DEBT-1",
        amount=Money(amount_minor=70_000),
        balance=Money(amount_minor=123_456),
        pay_by=PROMISED_BY,
        agreed_at=NOW,
    )


def settlement_lapsed(*, at: datetime = NOW + timedelta(days=9)) -> SettlementLapsed:
    """The settlement agreed, nothing paid by its date: the whole balance is owed again."""
    agreed = settlement_agreed()
    return SettlementLapsed(
        account_id=agreed.account_id,
        settlement_id=agreed.settlement_id,
        debt_id=agreed.debt_id,
        amount=agreed.amount,
        amount_paid=Money(amount_minor=0),
        pay_by=agreed.pay_by,
        remaining_balance=agreed.balance,
        lapsed_at=at,
    )


def account_settled(*, at: datetime = NOW) -> AccountSettled:
    return AccountSettled(
        account_id="ACC-1",
        debt_id="DEBT-1",
        how="paid_in_full",
        by_payment_id="PAY-9",
        settled_at=at,
    )


def account_reopened(*, by_payment_id: str = "PAY-9") -> AccountReopened:
    return AccountReopened(
        account_id="ACC-1",
        debt_id="DEBT-1",
        by_payment_id=by_payment_id,
        remaining_balance=Money(amount_minor=41_152),
        reopened_at=NOW,
    )
