"""How a case follows the account's money (payments.v1): the pure reactions of domain.money."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from dunning_core.contracts.common import Channel, Event
from dunning_scheduler.domain.case import Case, CaseStatus, PauseReason, still_wanted
from dunning_scheduler.domain.money import on_money, schedule_of
from dunning_scheduler.domain.money_steps import MoneyReaction
from dunning_scheduler.domain.planning import plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_testkit.money_events import (
    account_reopened,
    account_settled,
    installment_missed,
    plan_agreed,
    plan_broken,
    plan_completed,
    promise_broken,
    promise_made,
    settlement_agreed,
    settlement_lapsed,
)
from dunning_testkit.scheduler import NOW, payment, planned_case, signal

POLICY = default_policy()
URGENCY = [s.key for s in POLICY.stages].index("urgency")


def react(case: Case, event: Event, policy: EscalationPolicy = POLICY) -> MoneyReaction:
    reaction = on_money(case, event, policy, NOW)
    assert reaction is not None
    return reaction


def on_plan() -> MoneyReaction:
    case, _, _ = planned_case()
    return react(case, plan_agreed())


def every_installment_paid(case: Case) -> Case:
    """The plan's three installments paid, PAY-1 to PAY-3, the last leaving nothing owed."""
    for seq, remaining in ((1, 82_304), (2, 41_152), (3, 0)):
        case = react(
            case, payment(remaining, payment_id=f"PAY-{seq}", plan_id="PLAN-1", installments=[seq])
        ).case
    return case


def test_a_plan_pauses_and_plans_a_reminder_days_before_each_installment() -> None:
    reaction = on_plan()
    assert reaction.case.paused_reason == PauseReason.PLAN
    assert reaction.case.money.plan_id == "PLAN-1"
    reminders = reaction.drafts
    assert [d.template for d in reminders] == ["installment_reminder"] * 3
    assert [d.on_date for d in reminders] == [
        date(2026, 3, 16),
        date(2026, 4, 16),
        date(2026, 5, 16),
    ]
    # Three days before, at 10:00 in New York (EDT from March 8).
    assert reminders[0].send_at == datetime(2026, 3, 13, 14, 0, tzinfo=UTC)
    assert {d.channel for d in reminders} == {Channel.SMS}  # the first usable channel only
    assert all(d.amount is not None and d.amount.amount_minor == 41_152 for d in reminders)
    assert len({d.step_id for d in reminders}) == 3
    assert all(still_wanted(reaction.case, d.step_id) for d in reminders)


def test_a_reminder_whose_time_has_passed_is_not_planned() -> None:
    case, _, _ = planned_case()
    soon = plan_agreed(dues=(date(2026, 3, 4), date(2026, 4, 4)))
    assert [d.on_date for d in react(case, soon).drafts] == [date(2026, 4, 4)]


def test_a_plan_without_its_schedule_is_followed_from_its_first_due_date() -> None:
    legacy = plan_agreed(dues=(date(2026, 1, 31), date(2026, 2, 28)), with_schedule=False)
    legacy = legacy.model_copy(update={"instalments": 3})
    assert [due for _, due, _ in schedule_of(legacy)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_the_same_event_again_changes_nothing() -> None:
    reaction = on_plan()
    assert on_money(reaction.case, plan_agreed(), POLICY, NOW + timedelta(hours=1)) is None
    thanked = react(reaction.case, payment(82_304, plan_id="PLAN-1", installments=[1]))
    again = payment(82_304, plan_id="PLAN-1", installments=[1])
    assert on_money(thanked.case, again, POLICY, NOW + timedelta(minutes=5)) is None


def test_a_payment_is_thanked_once_and_withdraws_the_reminders_of_what_it_paid() -> None:
    planned = on_plan()
    first, second, _ = planned.drafts
    paid = react(planned.case, payment(82_304, plan_id="PLAN-1", installments=[1]))
    assert [d.template for d in paid.drafts] == ["payment_thanks"]
    thanks = paid.drafts[0]
    assert thanks.send_at == NOW  # 12:00 in New York: a good hour already
    assert thanks.amount is not None
    assert thanks.amount.amount_minor == 10_000
    assert not still_wanted(paid.case, first.step_id)
    assert still_wanted(paid.case, second.step_id)
    assert paid.case.status == CaseStatus.PAUSED  # the plan goes on
    assert paid.case.debt is not None
    assert paid.case.debt.balance.amount_minor == 82_304


def test_thank_yous_can_be_turned_off() -> None:
    quiet = POLICY.model_copy(
        update={"plans": POLICY.plans.model_copy(update={"thank_payments": False})}
    )
    case, _, _ = planned_case()
    assert react(case, payment(100_000), quiet).drafts == ()


def test_a_missed_installment_is_followed_up_and_the_plan_still_holds() -> None:
    missed = react(on_plan().case, installment_missed())
    assert [d.template for d in missed.drafts] == ["plan_missed"]
    follow_up = missed.drafts[0]
    assert follow_up.amount is not None
    assert follow_up.amount.amount_minor == 40_000
    assert follow_up.on_date == date(2026, 3, 16)
    assert missed.case.paused_reason == PauseReason.PLAN


def test_a_broken_plan_lifts_the_pause_and_escalation_resumes_at_the_named_stage() -> None:
    planned = on_plan()
    broken = react(planned.case, plan_broken(at=NOW))
    case = broken.case
    assert case.status == CaseStatus.ACTIVE
    assert (case.stage_index, case.attempt) == (URGENCY, 1)
    assert case.next_step_at == NOW  # a good hour in New York
    assert case.money.plan_id is None
    assert not any(still_wanted(case, d.step_id) for d in planned.drafts)
    planning = plan_due(case, POLICY, NOW)
    assert {d.template for d in planning.drafts} == {"urgency"}


def test_a_kept_plan_ends_resolved_and_never_escalates() -> None:
    planned = on_plan()
    case = every_installment_paid(planned.case)
    done = react(case, plan_completed()).case
    assert done.status == CaseStatus.RESOLVED
    assert PauseReason.PLAN not in done.pause_reasons
    assert not done.is_due(NOW + timedelta(days=365))
    assert not any(still_wanted(done, d.step_id) for d in planned.drafts)


def test_a_plan_completed_again_after_a_reversal_is_applied_again() -> None:
    planned = on_plan()
    case = every_installment_paid(planned.case)
    done = react(case, plan_completed(by_payment_id="PAY-3")).case
    reopened = react(done, account_reopened(by_payment_id="PAY-3")).case
    assert reopened.status == CaseStatus.ACTIVE
    paid = react(reopened, payment(0, payment_id="PAY-4", plan_id="PLAN-1", installments=[3]))
    # Paid again: the second completion is a new occurrence, not a redelivery of the first.
    again = react(paid.case, plan_completed(by_payment_id="PAY-4"))
    assert (again.case.status, again.case.note) == (CaseStatus.RESOLVED, "plan PLAN-1 completed")
    redelivered = plan_completed(by_payment_id="PAY-4")
    assert on_money(again.case, redelivered, POLICY, NOW) is None


def test_the_last_payment_is_not_thanked_twice_the_settlement_confirms_it() -> None:
    case, _, _ = planned_case()
    paid = react(case, payment(0, payment_id="PAY-9"))
    assert paid.drafts == ()  # the settlement's confirmation thanks for it
    settled = react(paid.case, account_settled())
    assert [d.template for d in settled.drafts] == ["settled_thanks"]
    assert settled.case.status == CaseStatus.RESOLVED
    assert still_wanted(settled.case, settled.drafts[0].step_id)
    assert plan_due(settled.case, POLICY, NOW + timedelta(days=30)).drafts == ()
    assert not settled.case.is_due(NOW + timedelta(days=365))


def test_a_reopened_account_resumes_at_the_named_stage() -> None:
    case, _, _ = planned_case()
    settled = react(react(case, payment(0, payment_id="PAY-9")).case, account_settled())
    reopened = react(settled.case, account_reopened()).case
    assert reopened.status == CaseStatus.ACTIVE
    assert (reopened.stage_index, reopened.attempt) == (URGENCY, 1)
    assert reopened.debt is not None
    assert reopened.debt.balance.amount_minor == 41_152
    assert not still_wanted(reopened, settled.drafts[0].step_id)  # not sent yet: withdrawn
    assert reopened.is_due(NOW)


def test_a_lapsed_settlement_resumes_escalation_at_the_named_stage() -> None:
    case, _, _ = planned_case()
    agreed = react(case, settlement_agreed())
    assert agreed.case.paused_reason == PauseReason.PROMISED_TO_PAY
    assert not agreed.case.is_due(NOW + timedelta(days=5))
    lapsed = react(agreed.case, settlement_lapsed(at=NOW))
    assert lapsed.case.status == CaseStatus.ACTIVE
    assert lapsed.case.promise_until is None
    assert (lapsed.case.stage_index, lapsed.case.attempt) == (URGENCY, 1)
    assert lapsed.case.note == "settlement SET-1 lapsed: escalation resumes"
    assert lapsed.case.is_due(NOW)
    assert on_money(lapsed.case, settlement_lapsed(at=NOW), POLICY, NOW) is None
    # A promise made since the settlement holds the case: its own date decides.
    promised = react(agreed.case, promise_made()).case
    held = react(promised, settlement_lapsed(at=NOW)).case
    assert held.paused_reason == PauseReason.PROMISED_TO_PAY


def test_a_promise_pauses_with_a_reminder_and_a_broken_one_resumes_escalation() -> None:
    case, _, _ = planned_case()
    made = react(case, promise_made())
    assert made.case.paused_reason == PauseReason.PROMISED_TO_PAY
    assert made.case.promise_until == datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
    (reminder,) = made.drafts
    assert reminder.template == "promise_reminder"
    assert reminder.send_at == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # the day before
    broken = react(made.case, promise_broken(at=NOW)).case
    assert broken.status == CaseStatus.ACTIVE
    assert broken.promise_until is None
    assert (broken.stage_index, broken.attempt) == (URGENCY, 1)
    assert not still_wanted(broken, reminder.step_id)


def test_an_older_plan_ending_leaves_the_current_one_alone() -> None:
    first = on_plan()
    second = react(first.case, plan_agreed(plan_id="PLAN-2"))
    assert not any(still_wanted(second.case, d.step_id) for d in first.drafts)
    old_end = react(second.case, plan_broken(plan_id="PLAN-1", at=NOW)).case
    assert old_end.paused_reason == PauseReason.PLAN
    assert all(still_wanted(old_end, d.step_id) for d in second.drafts)


def test_nothing_goes_to_a_disputed_account() -> None:
    from dunning_core.contracts.events import SignalKind
    from dunning_scheduler.domain import reactions

    planned = on_plan()
    disputed = reactions.on_signal(planned.case, signal(SignalKind.DISPUTED), POLICY, NOW)
    assert disputed is not None
    assert not any(still_wanted(disputed, d.step_id) for d in planned.drafts)
    assert react(disputed, payment(80_000)).drafts == ()


@pytest.mark.parametrize("event", [payment(50_000), plan_agreed(), promise_made()])
def test_money_overtaking_the_account_is_kept_without_messages(event: Event) -> None:
    waiting = Case(account_id="ACC-1")
    reaction = react(waiting, event)
    assert reaction.drafts == ()
    assert reaction.case.money.seen


def test_the_money_remembered_stays_bounded() -> None:
    case, _, _ = planned_case()
    for n in range(200):
        case = react(case, payment(100_000, payment_id=f"PAY-{n}")).case
    assert len(case.money.seen) <= 64
    assert len(case.money.steps) <= 128
    case = replace(case, money=replace(case.money, seen=()))
    assert on_money(case, payment(100_000, payment_id="PAY-0"), POLICY, NOW) is not None


def test_a_case_resolved_by_the_account_snapshot_sends_no_reminder() -> None:
    from dunning_scheduler.domain import reactions
    from dunning_testkit.scheduler import account_opened, debt

    planned = on_plan()
    zero = account_opened(revision=2, debt_=debt(balance_minor=0))
    resolved = reactions.on_account(planned.case, zero, POLICY, NOW)
    assert resolved is not None
    assert resolved.status == CaseStatus.RESOLVED
    assert not any(still_wanted(resolved, d.step_id) for d in planned.drafts)
    assert react(resolved, plan_agreed(plan_id="PLAN-2")).drafts == ()


def test_a_case_past_the_resume_stage_goes_on_from_where_it_was() -> None:
    """Re-planning a rung already sent would repeat its step id: never back down."""
    planned = on_plan()
    further = replace(planned.case, stage_index=URGENCY + 1, attempt=1)
    resumed = react(further, plan_broken(at=NOW)).case
    assert (resumed.stage_index, resumed.attempt) == (URGENCY + 1, 1)
    assert resumed.is_due(NOW)
    done = replace(planned.case, stage_index=len(POLICY.stages), exhausted=True)
    assert react(done, plan_broken(at=NOW)).case.status == CaseStatus.EXHAUSTED


def test_a_payment_withdraws_the_follow_up_of_the_installment_it_pays() -> None:
    late_night = datetime(2026, 3, 19, 4, 0, tzinfo=UTC)  # 00:00 in New York
    missed = react(on_plan().case, installment_missed(at=late_night))
    (follow_up,) = missed.drafts
    assert follow_up.send_at == datetime(2026, 3, 19, 14, 0, tzinfo=UTC)  # at 10:00
    paid = react(missed.case, payment(82_304, plan_id="PLAN-1", installments=[1]))
    assert not still_wanted(paid.case, follow_up.step_id)


def test_a_plan_that_came_before_the_account_gets_its_reminders_with_the_snapshot() -> None:
    from dunning_scheduler.adapters.repository import money_from_json, money_json
    from dunning_scheduler.domain import reactions
    from dunning_scheduler.domain.money import on_snapshot
    from dunning_testkit.scheduler import account_opened

    waiting = react(react(Case(account_id="ACC-1"), plan_agreed()).case, promise_made()).case
    assert [type(e).__name__ for e in waiting.money.pending] == ["PlanAgreed", "PromiseMade"]
    assert money_from_json(money_json(waiting.money)) == waiting.money  # as stored
    opened = reactions.on_account(waiting, account_opened(), POLICY, NOW)
    assert opened is not None
    caught_up = on_snapshot(opened, POLICY, NOW)
    assert caught_up is not None
    assert sorted(d.template for d in caught_up.drafts) == [
        *["installment_reminder"] * 3,
        "promise_reminder",
    ]
    assert caught_up.case.money.pending == ()
    assert caught_up.case.paused_reason == PauseReason.PLAN
    assert on_snapshot(caught_up.case, POLICY, NOW) is None


def test_a_plan_ended_before_the_account_came_has_no_reminders() -> None:
    from dunning_scheduler.domain import reactions
    from dunning_scheduler.domain.money import on_snapshot
    from dunning_testkit.scheduler import account_opened

    ended = react(react(Case(account_id="ACC-1"), plan_agreed()).case, plan_broken(at=NOW)).case
    opened = reactions.on_account(ended, account_opened(), POLICY, NOW)
    assert opened is not None
    caught_up = on_snapshot(opened, POLICY, NOW)
    assert caught_up is not None
    assert caught_up.drafts == ()
