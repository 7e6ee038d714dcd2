"""Reactions to decisions, payments, signals and deliveries (pure, and idempotent)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import Decision, DeliveryStatus, SignalKind
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case, CaseStatus, PauseReason, StepStatus
from dunning_scheduler.domain.planning import plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.scheduler import (
    NOW,
    account_opened,
    decided,
    delivery,
    payment,
    planned_case,
    signal,
)

POLICY = default_policy()


def test_a_deferral_replans_the_same_step_at_not_before_and_keeps_the_spacing() -> None:
    case, records, events = planned_case()
    later = NOW + timedelta(hours=20)
    reaction = reactions.on_decision(
        case,
        records[0],
        decided(events[0], Decision.DEFER, not_before=later, rules=["hours.fdcpa"]),
        NOW,
    )
    assert reaction.replan is not None
    assert reaction.replan.step_id == records[0].step_id
    assert reaction.replan.attempt == records[0].step.attempt
    assert reaction.replan.send_at == later
    assert reaction.replan.content_hash == records[0].step.content_hash  # what was vetted
    assert reaction.step.status == StepStatus.DEFERRED
    assert reaction.step.rule_ids == ("hours.fdcpa",)
    gap = records[0].gap_after
    assert case.next_step_at is not None
    assert gap is not None
    assert reaction.case.next_step_at == max(case.next_step_at, later + gap)


def test_a_repeated_or_older_deferral_changes_nothing() -> None:
    case, records, events = planned_case()
    later = NOW + timedelta(hours=20)
    first = reactions.on_decision(
        case, records[0], decided(events[0], Decision.DEFER, not_before=later), NOW
    )
    again = reactions.on_decision(
        first.case, first.step, decided(events[0], Decision.DEFER, not_before=later), NOW
    )
    assert again.replan is None
    assert again.case is first.case
    assert again.step is first.step


def test_a_deferral_of_a_paused_or_superseded_case_is_dropped() -> None:
    case, records, events = planned_case()
    defer = decided(events[0], Decision.DEFER, not_before=NOW + timedelta(hours=3))
    paused = replace(case, pause_reasons=frozenset({PauseReason.DISPUTED}))
    dropped = reactions.on_decision(paused, records[0], defer, NOW)
    assert dropped.replan is None
    assert dropped.step.status == StepStatus.DROPPED
    moved_on = replace(case, last_step_ids=("stp_other",))
    assert reactions.on_decision(moved_on, records[0], defer, NOW).replan is None


@pytest.mark.parametrize("rule", ["optout.channel", "state.nyc.econsent"])
def test_a_channel_block_drops_the_channel(rule: str) -> None:
    case, records, events = planned_case()
    reaction = reactions.on_decision(
        case, records[0], decided(events[0], Decision.BLOCK, rules=[rule]), NOW
    )
    assert reaction.step.status == StepStatus.BLOCKED
    assert reaction.case.opted_out_channels == {Channel.SMS}
    assert reaction.case.status == CaseStatus.ACTIVE


@pytest.mark.parametrize("rule", ["tcpa.consent", "address.basis", "medium.restricted"])
def test_an_address_block_stops_using_that_address(rule: str) -> None:
    case, records, events = planned_case()
    reaction = reactions.on_decision(
        case, records[0], decided(events[0], Decision.BLOCK, rules=[rule]), NOW
    )
    assert reaction.case.bad_addresses == {"+12125550100"}
    next_plan = plan_due(replace(reaction.case, next_step_at=NOW), POLICY, NOW)
    assert [d.channel for d in next_plan.drafts] == [Channel.EMAIL]


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("dispute.pending", PauseReason.DISPUTED),
        ("cease.requested", PauseReason.CEASE_REQUESTED),
        ("attorney.represented", PauseReason.ATTORNEY_REPRESENTED),
        ("bankruptcy.stay", PauseReason.BANKRUPTCY_FILED),
        ("deceased", PauseReason.DECEASED),
    ],
)
def test_a_status_block_pauses_the_case(rule: str, reason: PauseReason) -> None:
    case, records, events = planned_case()
    reaction = reactions.on_decision(
        case, records[1], decided(events[1], Decision.BLOCK, rules=[rule]), NOW
    )
    assert reaction.case.status == CaseStatus.PAUSED
    assert reaction.case.paused_reason == reason
    assert reaction.case.opted_out_channels == frozenset()


def test_allow_marks_the_step() -> None:
    case, records, events = planned_case()
    reaction = reactions.on_decision(case, records[0], decided(events[0], Decision.ALLOW), NOW)
    assert reaction.step.status == StepStatus.ALLOWED
    assert reaction.case is case


def test_payment_in_full_resolves_and_partial_payment_updates_the_balance() -> None:
    case, _, _ = planned_case()
    partial = reactions.on_payment(case, payment(100_000), NOW)
    assert partial.status == CaseStatus.ACTIVE
    assert partial.debt is not None
    assert partial.debt.balance.amount_minor == 100_000
    assert partial.note is not None
    assert "partial payment" in partial.note
    paid = reactions.on_payment(partial, payment(0, payment_id="PAY-2"), NOW)
    assert paid.status == CaseStatus.RESOLVED
    assert paid.next_step_at is None
    assert reactions.on_payment(paid, payment(0, payment_id="PAY-2"), NOW).status == (
        CaseStatus.RESOLVED
    )


def test_a_plan_pauses_escalation() -> None:
    from dunning_core.contracts.common import Money
    from dunning_core.contracts.events import PlanAgreed

    case, _, _ = planned_case()
    plan = PlanAgreed(
        account_id="ACC-1",
        plan_id="PLAN-1",
        debt_id="DEBT-1",
        instalment=Money(amount_minor=10_000),
        instalments=12,
        first_due=date(2026, 4, 1),
        agreed_at=NOW,
    )
    paused = reactions.on_plan(case, plan, NOW)
    assert paused.status == CaseStatus.PAUSED
    assert paused.paused_reason == PauseReason.PLAN


def test_dispute_pauses_and_verification_resumes_due_now() -> None:
    case, _, _ = planned_case()
    disputed = reactions.on_signal(case, signal(SignalKind.DISPUTED), POLICY, NOW)
    assert disputed is not None
    assert disputed.status == CaseStatus.PAUSED
    much_later = NOW + timedelta(days=60)
    resumed = reactions.on_signal(disputed, signal(SignalKind.DISPUTE_VERIFIED), POLICY, much_later)
    assert resumed is not None
    assert resumed.status == CaseStatus.ACTIVE
    assert resumed.next_step_at == much_later


def test_verification_does_not_lift_another_pause() -> None:
    case, _, _ = planned_case()
    both = replace(
        case, pause_reasons=frozenset({PauseReason.DISPUTED, PauseReason.BANKRUPTCY_FILED})
    )
    after = reactions.on_signal(both, signal(SignalKind.DISPUTE_VERIFIED), POLICY, NOW)
    assert after is not None
    assert after.paused_reason == PauseReason.BANKRUPTCY_FILED


def test_opt_out_drops_a_channel_and_with_none_left_the_case_pauses() -> None:
    case, _, _ = planned_case()
    no_sms = reactions.on_signal(
        case, signal(SignalKind.OPTED_OUT, channel=Channel.SMS), POLICY, NOW
    )
    assert no_sms is not None
    assert no_sms.opted_out_channels == {Channel.SMS}
    assert no_sms.status == CaseStatus.ACTIVE
    again = reactions.on_signal(
        no_sms, signal(SignalKind.OPTED_OUT, channel=Channel.SMS), POLICY, NOW
    )
    assert again == no_sms  # idempotent
    nothing = reactions.on_signal(
        no_sms, signal(SignalKind.UNSUBSCRIBED, channel=Channel.EMAIL), POLICY, NOW
    )
    assert nothing is not None
    assert nothing.paused_reason == PauseReason.NO_CHANNEL
    back = reactions.on_signal(
        nothing, signal(SignalKind.OPTED_IN, channel=Channel.SMS), POLICY, NOW
    )
    assert back is not None
    assert back.status == CaseStatus.ACTIVE


def test_promise_to_pay_pauses_until_the_day_after_the_date_then_resumes() -> None:
    case, _, _ = planned_case()
    promise = signal(SignalKind.PROMISED_TO_PAY, details={"date": "2026-03-10"})
    paused = reactions.on_signal(case, promise, POLICY, NOW)
    assert paused is not None
    assert paused.paused_reason == PauseReason.PROMISED_TO_PAY
    assert paused.promise_until == datetime.fromisoformat("2026-03-11T10:00:00-04:00")
    assert reactions.on_promise_expired(paused, NOW + timedelta(days=2)) is None
    resumed = reactions.on_promise_expired(paused, paused.promise_until)
    assert resumed is not None
    assert resumed.status == CaseStatus.ACTIVE
    assert resumed.promise_until is None


def test_promise_without_a_date_uses_the_policy_default() -> None:
    case, _, _ = planned_case()
    paused = reactions.on_signal(case, signal(SignalKind.PROMISED_TO_PAY), POLICY, NOW)
    assert paused is not None
    assert paused.promise_until is not None
    assert paused.promise_until.date() == (NOW + timedelta(days=POLICY.promise_default_days)).date()


def test_a_hard_bounce_stops_using_the_address() -> None:
    case, records, events = planned_case()
    reaction = reactions.on_delivery(
        case, records[1], delivery(events[1], DeliveryStatus.BOUNCED), POLICY, NOW
    )
    assert reaction.case.bad_addresses == {"ana.garcia@example.com"}
    assert reaction.step.status == StepStatus.FAILED


def test_soft_failures_count_distinct_steps_only() -> None:
    case, records, events = planned_case()
    undelivered = delivery(events[0], DeliveryStatus.UNDELIVERED, error_code="30003")
    once = reactions.on_delivery(case, records[0], undelivered, POLICY, NOW)
    twice = reactions.on_delivery(once.case, once.step, undelivered, POLICY, NOW)
    assert twice.case.soft_failures == {"+12125550100": (records[0].step_id,)}
    assert twice.case.bad_addresses == frozenset()
    many = replace(case, soft_failures={"+12125550100": ("stp_a", "stp_b")})
    worn = reactions.on_delivery(many, records[0], undelivered, POLICY, NOW)
    assert worn.case.bad_addresses == {"+12125550100"}


def test_a_success_marks_the_consumer_contacted_so_later_steps_are_not_first() -> None:
    case, records, events = planned_case()
    reaction = reactions.on_delivery(
        case, records[0], delivery(events[0], DeliveryStatus.DELIVERED), POLICY, NOW
    )
    assert reaction.case.contacted
    assert reaction.step.status == StepStatus.DELIVERED
    late_sent = reactions.on_delivery(
        reaction.case, reaction.step, delivery(events[0], DeliveryStatus.SENT), POLICY, NOW
    )
    assert late_sent.step.status == StepStatus.DELIVERED
    follow_up = plan_due(replace(reaction.case, next_step_at=NOW), POLICY, NOW)
    assert not any(d.first_communication for d in follow_up.drafts)


def test_older_account_revisions_are_ignored_and_newer_ones_refresh_the_snapshot() -> None:
    case, _, _ = planned_case()
    assert reactions.on_account(case, account_opened(), POLICY, NOW) is None
    newer = reactions.on_account(case, account_opened(revision=2), POLICY, NOW)
    assert newer is not None
    assert newer.revision == 2
    assert newer.stage_index == case.stage_index  # progress kept


def test_a_signal_before_the_account_is_kept_until_the_snapshot_arrives() -> None:
    early = reactions.on_signal(
        Case(account_id="ACC-1"), signal(SignalKind.OPTED_OUT, channel=Channel.SMS), POLICY, NOW
    )
    assert early is not None
    assert not early.is_due(NOW)
    opened = reactions.on_account(early, account_opened(), POLICY, NOW)
    assert opened is not None
    assert opened.opted_out_channels == {Channel.SMS}
    assert [d.channel for d in plan_due(opened, POLICY, NOW).drafts] == [Channel.EMAIL]


def test_an_operators_pause_stops_planning_until_resumed_and_lifts_only_itself() -> None:
    case, _, _ = planned_case()
    paused = reactions.on_signal(case, signal(SignalKind.OUTREACH_PAUSED), POLICY, NOW)
    assert paused is not None
    assert paused.status == CaseStatus.PAUSED
    assert paused.paused_reason == PauseReason.OPERATOR
    assert paused.next_step_at is not None
    later = paused.next_step_at + timedelta(days=3)  # the step's time has passed
    assert not paused.is_due(later)  # old code: the ladder went on
    resumed = reactions.on_signal(paused, signal(SignalKind.OUTREACH_RESUMED), POLICY, later)
    assert resumed is not None
    assert resumed.status == CaseStatus.ACTIVE
    assert resumed.next_step_at == later  # goes now, not in a burst of missed steps
    assert resumed.is_due(later)
    both = reactions.on_signal(paused, signal(SignalKind.DISPUTED), POLICY, NOW)
    assert both is not None
    after = reactions.on_signal(both, signal(SignalKind.OUTREACH_RESUMED), POLICY, later)
    assert after is not None
    assert after.paused_reason == PauseReason.DISPUTED  # the dispute still holds it


def test_a_late_operator_paused_block_does_not_pause_a_resumed_case_again() -> None:
    """The gate blocked a step planned before the pause; its decision reaches the scheduler
    after the resume (two topics): the case stays active, the step is blocked."""
    case, records, events = planned_case()
    paused = reactions.on_signal(case, signal(SignalKind.OUTREACH_PAUSED), POLICY, NOW)
    assert paused is not None
    resumed = reactions.on_signal(paused, signal(SignalKind.OUTREACH_RESUMED), POLICY, NOW)
    assert resumed is not None
    late = decided(events[0], Decision.BLOCK, rules=["operator.paused"])
    reaction = reactions.on_decision(resumed, records[0], late, NOW)
    assert reaction.step.status == StepStatus.BLOCKED
    assert reaction.case.status == CaseStatus.ACTIVE
