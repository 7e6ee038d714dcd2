"""How a case reacts to an approval that expired: planned again once per expiry, never after a
send, and not fooled by an approval that arrives late or is given again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dunning_core.contracts.events import Decision, DeliveryStatus, DeliveryUpdated, StepPlanned
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case, PauseReason, StepRecord, StepStatus
from dunning_scheduler.domain.reactions import StepReaction
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.scheduler import (
    NOW,
    decided,
    delivery,
    planned_case,
)

POLICY = default_policy()
NEW_YORK = ZoneInfo("America/New_York")


def allowed_case() -> tuple[Case, list[StepRecord], list[StepPlanned]]:
    """``planned_case`` after the gate allowed both steps."""
    case, records, events = planned_case()
    allowed = [
        reactions.on_decision(case, r, decided(e, Decision.ALLOW), NOW).step
        for r, e in zip(records, events, strict=True)
    ]
    return case, allowed, events


def expired_first(
    at: datetime,
) -> tuple[Case, list[StepRecord], list[StepPlanned], DeliveryUpdated, StepReaction]:
    """``allowed_case`` and its first approval expired unsent at ``at`` (its send-by passed):
    the case, records and plans before, the expiry, and the case's reaction to it."""
    case, records, events = allowed_case()
    expired = delivery(events[0], DeliveryStatus.EXPIRED, error_code="send_by_passed", at=at)
    reaction = reactions.on_delivery(case, records[0], expired, POLICY, at)
    return case, records, events, expired, reaction


def test_an_expired_approval_replans_the_same_step_about_now_and_is_no_failure() -> None:
    later = NOW + timedelta(minutes=10)

    case, records, _, _, reaction = expired_first(later)

    assert reaction.replan is not None
    assert reaction.replan.step_id == records[0].step_id
    assert reaction.replan.attempt == records[0].step.attempt
    assert reaction.replan.content_hash == records[0].step.content_hash
    assert reaction.replan.send_at == later  # 12:10 in New York: allowed now
    assert reaction.step.status == StepStatus.DEFERRED
    assert reaction.step.delivery_status == "expired"
    assert reaction.step.replans == records[0].replans + 1
    assert reaction.case.soft_failures == {}
    assert reaction.case.bad_addresses == frozenset()
    assert reaction.case.stage_index == case.stage_index  # not escalated past
    gap = records[0].gap_after
    assert gap is not None
    assert case.next_step_at is not None
    assert reaction.case.next_step_at == max(case.next_step_at, later + gap)


def test_an_approval_that_expired_at_night_is_replanned_for_the_morning() -> None:
    case, records, events = allowed_case()
    night = datetime(2026, 3, 3, 4, 0, tzinfo=NOW.tzinfo)  # 23:00 in New York
    expired = delivery(events[0], DeliveryStatus.EXPIRED, at=night)

    reaction = reactions.on_delivery(case, records[0], expired, POLICY, night)

    assert reaction.replan is not None
    assert reaction.replan.send_at > night
    assert reaction.replan.send_at.astimezone(NEW_YORK).hour == POLICY.send_window.preferred_hour


def test_a_repeated_expiry_or_one_after_sending_changes_nothing() -> None:
    case, records, events = allowed_case()
    expired = delivery(events[0], DeliveryStatus.EXPIRED, at=NOW)
    first = reactions.on_delivery(case, records[0], expired, POLICY, NOW)
    replanned = replace(first.step, status=StepStatus.PLANNED)  # published again

    again = reactions.on_delivery(first.case, replanned, expired, POLICY, NOW)

    assert again.replan is None
    assert again.step is replanned
    sent = replace(records[0], status=StepStatus.SENT, delivery_status="sent")
    assert reactions.on_delivery(case, sent, expired, POLICY, NOW).step is sent


def test_an_expiry_after_the_approval_was_replanned_and_expired_again_replans_again() -> None:
    case, records, events = allowed_case()
    first = reactions.on_delivery(
        case, records[0], delivery(events[0], DeliveryStatus.EXPIRED, at=NOW), POLICY, NOW
    )
    assert first.replan is not None
    reallowed = replace(first.step, status=StepStatus.ALLOWED)
    later = NOW + timedelta(minutes=5)

    second = reactions.on_delivery(
        first.case, reallowed, delivery(events[0], DeliveryStatus.EXPIRED, at=later), POLICY, later
    )

    assert second.replan is not None
    assert second.replan.send_at == later
    assert second.step.replans == first.step.replans + 1


def test_an_expiry_of_a_paused_or_superseded_case_is_dropped() -> None:
    case, records, events = allowed_case()
    expired = delivery(events[0], DeliveryStatus.EXPIRED, at=NOW)
    paused = replace(case, pause_reasons=frozenset({PauseReason.DISPUTED}))
    dropped = reactions.on_delivery(paused, records[0], expired, POLICY, NOW)
    assert dropped.replan is None
    assert dropped.step.status == StepStatus.DROPPED
    moved_on = replace(case, last_step_ids=("stp_other",))
    assert reactions.on_delivery(moved_on, records[0], expired, POLICY, NOW).replan is None


def test_an_approval_arriving_after_its_expiry_leaves_the_re_plan_in_force() -> None:
    """Decisions and deliveries are on two topics: after a redelivery (a replica killed, a
    batch handed back) the allow of the first plan can come after its own expiry. It must
    not mark the re-planned step allowed: then no planner releases it and no gate decides
    it again, and the step is lost (seen in the chaos run: 206 steps)."""
    later = NOW + timedelta(minutes=10)
    _, _, events, _, replanned = expired_first(later)
    assert replanned.replan is not None

    late_allow = decided(events[0], Decision.ALLOW, at=NOW)
    after = reactions.on_decision(replanned.case, replanned.step, late_allow, later)

    assert after.step.status == StepStatus.DEFERRED
    assert after.step is replanned.step

    # The gate's answer to the re-plan itself is taken.
    again = StepPlanned(account_id="ACC-1", step=replanned.replan, planned_at=later)
    allowed = reactions.on_decision(
        replanned.case, replanned.step, decided(again, Decision.ALLOW, at=later), later
    )
    assert allowed.step.status == StepStatus.ALLOWED


def test_a_step_expired_twice_is_re_planned_twice() -> None:
    first_at = NOW + timedelta(minutes=10)
    _, records, _, first, once = expired_first(first_at)
    assert once.replan is not None
    again = StepPlanned(account_id="ACC-1", step=once.replan, planned_at=first_at)
    allowed = reactions.on_decision(
        once.case, replace(once.step, status=StepStatus.PLANNED),
        decided(again, Decision.ALLOW, at=first_at), first_at,
    )  # fmt: skip
    second_at = first_at + timedelta(minutes=30)
    second = delivery(again, DeliveryStatus.EXPIRED, error_code="send_by_passed", at=second_at)
    twice = reactions.on_delivery(allowed.case, allowed.step, second, POLICY, second_at)
    assert twice.replan is not None
    assert twice.replan.send_at >= second_at
    assert twice.step.replans == records[0].replans + 2
    # The first expiry redelivered now is a repeat.
    assert reactions.on_delivery(twice.case, twice.step, first, POLICY, second_at).replan is None


def test_an_old_approval_given_again_to_the_re_plan_plans_the_step_again() -> None:
    """The gate, its state rebuilt without the expiry, answers the re-plan with the first
    approval (its decided_at, long past send_by): the worker expires that under the expiry
    id already seen, so no expiry would ever reach the scheduler again. The step is planned
    again a little later instead of waiting for ever (878 steps in the chaos short form)."""
    later = NOW + timedelta(minutes=10)
    *_, replanned = expired_first(later)
    assert replanned.replan is not None
    released = replace(replanned.step, status=StepStatus.PLANNED)
    current_plan = StepPlanned(account_id="ACC-1", step=replanned.replan, planned_at=later)

    replayed = decided(current_plan, Decision.ALLOW, at=NOW)  # the first approval's instant
    after = reactions.on_decision(replanned.case, released, replayed, later)

    assert after.replan is not None
    assert after.replan.send_at > later
    assert after.step.status == StepStatus.DEFERRED
    assert after.step.replans == released.replans + 1
