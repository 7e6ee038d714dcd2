"""A step's not-sent outcome read before the approval it answers still answers it, and only
an approval of the same plan is replayed.

After a Redis FLUSHALL the gate rebuilds its state from the log, partition by partition but
across topics in fetch order: delivery.v1's ``expired`` of a step could be applied before
the decisions topic's approval it answers. The approval then came back "live", and every
later re-plan of the step was answered with that old approval (same ``decided_at``, same
``send_by``), which the worker expired again under the same id: the step never went out
(878 of 879 lost in chaos run chaos1796525574, e.g. stp_fa02c231-...).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import (
    DeliveryStatus,
    DeliveryUpdated,
    StepApproved,
    StepPlanned,
)
from dunning_gate.domain.state import AccountState, apply_account, prune
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider, GateStats, apply_event, decide_step
from dunning_testkit.gate import NOW, NewYorkSms

STREAM = NewYorkSms("O")
DECIDER = GateDecider(default_policy())
LATER = NOW + timedelta(hours=22)  # 09:00 the next morning in New York


def known_account() -> AccountState:
    state = AccountState(account_id=STREAM.account_id(1))
    apply_account(state, STREAM.account(1))
    return state


def replanned(hours: float) -> StepPlanned:
    planned = STREAM.planned(1, 1)
    step = planned.step.model_copy(update={"send_at": NOW + timedelta(hours=hours)})
    return planned.model_copy(update={"step": step})


def expired(hours: float) -> DeliveryUpdated:
    return DeliveryUpdated(
        account_id=STREAM.account_id(1),
        step_id=STREAM.planned(1, 1).step.step_id,
        channel=Channel.SMS,
        provider="none",
        status=DeliveryStatus.EXPIRED,
        error_code="send_by_passed",
        occurred_at=NOW + timedelta(hours=hours),
    )


def approve(
    state: AccountState, planned: StepPlanned, stats: GateStats, at: datetime = NOW
) -> tuple[list[Envelope], StepApproved]:
    out = decide_step(DECIDER, planned, wrap(planned, "scheduler"), state, at, stats)
    approval = out[-1].data
    assert isinstance(approval, StepApproved)
    return out, approval


def test_an_expiry_rebuilt_before_its_approval_still_answers_it() -> None:
    live, stats = known_account(), GateStats()
    out, first = approve(live, STREAM.planned(1, 1), stats)
    decided = out[0]
    expiry = wrap(expired(hours=3), "sms")

    # The rebuild reads delivery.v1 before the decisions topic.
    rebuilt = known_account()
    apply_event(rebuilt, expiry)
    apply_event(rebuilt, decided)
    step_id = first.step.step_id
    assert rebuilt.approved(step_id) is None  # old code: the approval was live again
    assert [c.outcome for c in rebuilt.contacts] == ["expired"]
    assert rebuilt.unanswered == []

    # The scheduler's re-plan of the step is decided afresh, not answered with the old one.
    _, again = approve(rebuilt, replanned(hours=20), stats, LATER)
    assert stats.replays == 0
    assert again.approved_at == LATER
    assert again.send_by is not None
    assert again.send_by > LATER


def test_an_old_expiry_does_not_answer_a_later_approval() -> None:
    state, stats = known_account(), GateStats()
    apply_event(state, wrap(expired(hours=-5), "sms"))  # a repeat, older than the approval
    _, first = approve(state, STREAM.planned(1, 1), stats)
    assert state.approved(first.step.step_id) is not None
    assert len(state.unanswered) == 1
    prune(state, NOW + timedelta(days=40), 35)
    assert state.unanswered == []


def test_a_re_plan_is_not_answered_with_a_former_plans_approval() -> None:
    state, stats = known_account(), GateStats()
    _, first = approve(state, STREAM.planned(1, 1), stats)
    # The former approval still looks in force (its expiry never reached the gate): the
    # re-plan for another instant is still a new plan, decided at its own instant.
    _, again = approve(state, replanned(hours=20), stats, LATER)
    assert stats.replays == 0  # old code: 1, the first approval announced again
    assert again.approved_at == LATER != first.approved_at
    assert again.send_by != first.send_by
    # The step is sent at most once: the former plan's approval no longer counts.
    assert [c.outcome for c in state.contacts] == ["superseded", "approved"]

    # The same plan delivered twice is still a replay, with the same send_by.
    _, replay = approve(state, replanned(hours=20), stats, LATER + timedelta(hours=1))
    assert stats.replays == 1
    assert replay.approved_at == again.approved_at
    assert replay.send_by == again.send_by
