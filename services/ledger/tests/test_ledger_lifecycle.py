"""Payment terms, plan schedules, offers and the money life cycle (pure domain)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from dunning_ledger.domain.lifecycle import (
    Allocation,
    Installment,
    MoneyState,
    Plan,
    Promise,
    Settlement,
    apply_payment,
    pass_due_dates,
    reverse_payment,
)
from dunning_ledger.domain.schedule import (
    amounts_by_count,
    amounts_by_installment,
    check_within_terms,
    due_date,
    early_discount_offer,
    plan_offers,
    schedule,
    settlement_floor,
    settlement_offer,
)
from dunning_ledger.errors import InvalidRequest
from dunning_ledger.terms import TermsError, load_terms, parse_terms
from hypothesis import given, settings
from hypothesis import strategies as st

TODAY = date(2026, 3, 2)
TERMS = load_terms()


# --- terms ---------------------------------------------------------------------------


def test_the_packaged_terms_load() -> None:
    assert TERMS.frequencies == ("weekly", "biweekly", "monthly")
    assert TERMS.settlement is not None
    assert TERMS.settlement.floor_percent == 60


def test_invalid_terms_name_the_field_and_line(tmp_path: Path) -> None:
    text = "version: 1\nfrequencies: [weekly, daily]\nlongest_term_days: 0\n"
    with pytest.raises(TermsError) as error:
        parse_terms(text, source="t.yaml")
    message = str(error.value)
    assert "frequencies.1" in message
    assert "(line 2)" in message
    assert "longest_term_days" in message
    assert "(line 3)" in message
    assert "grace_days: Field required" in message
    with pytest.raises(TermsError, match="cannot read"):
        load_terms(tmp_path / "missing.yaml")
    with pytest.raises(TermsError, match="mapping"):
        parse_terms("- a\n")


# --- schedules -----------------------------------------------------------------------


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months() -> None:
    dues = [due_date(date(2026, 1, 31), "monthly", i) for i in range(4)]
    assert dues == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert due_date(date(2027, 12, 31), "monthly", 2) == date(2028, 2, 29)
    assert due_date(TODAY, "weekly", 2) == TODAY + timedelta(days=14)
    assert due_date(TODAY, "biweekly", 2) == TODAY + timedelta(days=28)


def test_the_remainder_goes_to_the_last_installment() -> None:
    assert amounts_by_count(10000, 3) == [3333, 3333, 3334]
    assert amounts_by_installment(10000, 3000) == [3000, 3000, 3000, 1000]
    assert amounts_by_installment(9000, 3000) == [3000, 3000, 3000]
    with pytest.raises(InvalidRequest):
        amounts_by_count(2, 3)


@given(st.integers(1, 10**12), st.integers(1, 600))
@settings(deadline=None, max_examples=200)
def test_amounts_by_count_add_up(total: int, count: int) -> None:
    if total < count:
        return
    amounts = amounts_by_count(total, count)
    assert sum(amounts) == total
    assert len(amounts) == count
    assert max(amounts) - min(amounts) < count
    assert min(amounts) >= 1


@given(st.integers(1, 10**12), st.integers(1, 10**9))
@settings(deadline=None, max_examples=200)
def test_amounts_by_installment_add_up(total: int, installment: int) -> None:
    installment = max(installment, total // 500 + 1)
    amounts = amounts_by_installment(total, installment)
    assert sum(amounts) == total
    assert all(a == installment for a in amounts[:-1])
    assert 1 <= amounts[-1] <= installment


def test_plans_beyond_the_terms_are_refused_naming_the_field() -> None:
    def field(frequency: str, amounts: list[int]) -> str | None:
        try:
            check_within_terms(schedule(TODAY, frequency, amounts), frequency, TERMS, TODAY)  # type: ignore[arg-type]
        except InvalidRequest as refused:
            return refused.field
        return None

    assert field("monthly", amounts_by_count(12000, 12)) is None
    assert field("monthly", amounts_by_count(12000, 13)) == "installment_minor"
    assert field("monthly", amounts_by_count(10**6, 14)) == "count"  # 13 months
    assert field("daily", [5000, 5000]) == "frequency"
    assert field("monthly", [500]) is None  # a single small payment is a plan too


# --- offers --------------------------------------------------------------------------


def test_offers_within_the_terms() -> None:
    offers = plan_offers(10000, TERMS, TODAY)
    assert [o.offer_id for o in offers] == [
        "weekly-4", "weekly-8", "biweekly-2", "biweekly-4", "biweekly-6", "monthly-2",
        "monthly-3", "monthly-6",
    ]  # fmt: skip
    assert all(o.total_minor == 10000 and o.first_due == TODAY for o in offers)
    settlement = settlement_offer(10001, TERMS, TODAY)
    assert settlement is not None
    assert settlement.amount_minor == 6001 == settlement_floor(10001, 60)
    assert settlement.pay_by == TODAY + timedelta(days=30)
    early = early_discount_offer(10000, TERMS, TODAY, placed_on=TODAY - timedelta(days=30))
    assert early is not None
    assert early.amount_minor == 9000
    assert early_discount_offer(10000, TERMS, TODAY, placed_on=TODAY - timedelta(days=31)) is None


# --- life cycle ----------------------------------------------------------------------


def plan(*amounts: int, status: str = "active") -> Plan:
    sched = schedule(TODAY, "monthly", list(amounts))
    return Plan("PL", status, tuple(Installment(s.seq, s.due_on, s.amount_minor) for s in sched))  # type: ignore[arg-type]


def test_a_payment_pays_the_earliest_installments_first() -> None:
    state = MoneyState(9000, plan=plan(3000, 3000, 3000))
    applied = apply_payment(state, 4000)
    assert applied.state.plan is not None
    assert [i.status for i in applied.state.plan.installments] == ["paid", "partly_paid", "due"]
    assert applied.allocation.installments == ((1, 3000), (2, 1000))
    assert applied.state.balance_minor == 5000
    assert not applied.plan_completed
    done = apply_payment(applied.state, 5000)
    assert done.plan_completed
    assert done.settled
    assert done.state.plan is not None
    assert done.state.plan.status == "completed"


def test_beyond_the_balance_is_a_credit() -> None:
    applied = apply_payment(MoneyState(1000), 1500)
    assert (applied.state.balance_minor, applied.state.credit_minor) == (0, 500)
    assert applied.settled
    assert applied.allocation.credit == 500


def test_a_paid_settlement_forgives_the_rest_and_its_reversal_brings_it_back() -> None:
    state = MoneyState(10000, settlement=Settlement("S", 6000, TODAY))
    applied = apply_payment(state, 6000)
    assert applied.settlement_paid
    assert applied.settled
    assert applied.state.balance_minor == 0
    assert applied.allocation.forgiven == 4000
    assert reverse_payment(applied.state, applied.allocation) == state


def test_a_promise_is_kept_by_payments_reaching_its_amount() -> None:
    state = MoneyState(10000, promise=Promise("PR", 5000, TODAY))
    first = apply_payment(state, 2000)
    assert not first.promise_kept
    assert first.state.promise is not None
    assert first.state.promise.status == "open"
    second = apply_payment(first.state, 3000)
    assert second.promise_kept
    assert second.state.promise is not None
    assert second.state.promise.status == "kept"


def test_a_reversal_unpays_what_that_payment_paid_whatever_came_after() -> None:
    state = MoneyState(9000, plan=plan(3000, 3000, 3000))
    a = apply_payment(state, 3000)
    b = apply_payment(a.state, 3000)
    back = reverse_payment(b.state, a.allocation)
    assert [i.status for i in back.plan.installments] == ["due", "paid", "due"]  # type: ignore[union-attr]
    assert back.balance_minor == 6000


states = st.builds(
    lambda balance, credit, amounts, paid, promise, settlement: MoneyState(
        balance,
        credit,
        plan(*amounts) if amounts else None,
        Promise("PR", promise, TODAY) if promise else None,
        Settlement("S", settlement, TODAY) if settlement else None,
    ),
    st.integers(0, 10**9),
    st.integers(0, 10**6),
    st.lists(st.integers(1, 10**6), max_size=6),
    st.integers(0, 10**6),
    st.integers(0, 10**7),
    st.integers(0, 10**9),
)


@given(states, st.integers(1, 10**9))
@settings(deadline=None, max_examples=200)
def test_apply_then_reverse_is_before(state: MoneyState, amount: int) -> None:
    applied = apply_payment(state, amount)
    assert applied.state.balance_minor + applied.allocation.to_balance <= state.balance_minor + (
        applied.allocation.to_balance
    )
    assert reverse_payment(applied.state, applied.allocation) == state


@given(states, st.lists(st.integers(1, 10**8), min_size=1, max_size=5), st.data())
@settings(deadline=None, max_examples=200)
def test_payments_then_reversing_one_equals_never_paying_it_on_balance(
    state: MoneyState, amounts: list[int], data: st.DataObject
) -> None:
    current = state
    allocations: list[Allocation] = []
    for amount in amounts:
        applied = apply_payment(current, amount)
        current, allocations = applied.state, [*allocations, applied.allocation]
    for allocation in allocations:
        current = reverse_payment(current, allocation)
    assert current.balance_minor == state.balance_minor
    assert current.credit_minor == state.credit_minor


def test_due_dates_passing_miss_then_break_once() -> None:
    state = MoneyState(9000, plan=plan(3000, 3000, 3000))
    first = pass_due_dates(state, TODAY + timedelta(days=6), grace_days=5, missed_to_break=2)
    assert [i.seq for i in first.missed] == [1]
    assert first.missed_counts == (1,)
    assert not first.plan_broken
    again = pass_due_dates(first.state, TODAY + timedelta(days=6), 5, 2)
    assert again.missed == ()
    assert again.state == first.state
    later = pass_due_dates(first.state, TODAY + timedelta(days=40), 5, 2)
    assert [i.seq for i in later.missed] == [2]
    assert later.plan_broken
    assert later.state.plan.status == "broken"  # type: ignore[union-attr]
    assert pass_due_dates(later.state, TODAY + timedelta(days=99), 5, 2).missed == ()


def test_due_dates_break_promises_and_lapse_settlements_once() -> None:
    promise, settlement = Promise("PR", 100, TODAY), Settlement("S", 6000, TODAY)
    state = MoneyState(9000, promise=promise, settlement=settlement)
    assert not pass_due_dates(state, TODAY, 5, 2).promise_broken
    passed = pass_due_dates(state, TODAY + timedelta(days=1), 5, 2)
    assert passed.promise_broken
    assert passed.settlement_lapsed
    assert not pass_due_dates(passed.state, TODAY + timedelta(days=2), 5, 2).promise_broken
