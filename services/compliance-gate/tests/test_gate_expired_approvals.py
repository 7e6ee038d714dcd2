"""An approval whose send_by passed (delivery status expired) is no contact, and the step
the scheduler re-plans under the same id is decided afresh and counted again."""

from __future__ import annotations

from datetime import timedelta

from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import (
    DeliveryStatus,
    DeliveryUpdated,
    StepApproved,
    StepDecided,
)
from dunning_gate.domain.mapping import request_dict
from dunning_gate.domain.state import AccountState, apply_account, apply_approval, apply_delivery
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider, GateStats, decide_step
from dunning_testkit.gate import NOW, NewYorkSms

STREAM = NewYorkSms("X")
DECIDER = GateDecider(default_policy())


def expired(step_id: str, hours: int = 12) -> DeliveryUpdated:
    return DeliveryUpdated(
        account_id=STREAM.account_id(1),
        step_id=step_id,
        channel=Channel.SMS,
        provider="none",
        status=DeliveryStatus.EXPIRED,
        error_code="send_by_passed",
        occurred_at=NOW + timedelta(hours=hours),
    )


def known_account() -> AccountState:
    state = AccountState(account_id=STREAM.account_id(1))
    apply_account(state, STREAM.account(1))
    return state


def test_an_expired_approval_is_no_contact_and_a_new_approval_counts_again() -> None:
    state = known_account()
    planned = STREAM.planned(1, 1)
    first = DECIDER(planned, "e1", state, NOW).event
    assert apply_approval(state, first, planned.step.destination, NOW)
    assert not apply_approval(state, first, planned.step.destination, NOW)  # a replay
    assert apply_delivery(state, expired(planned.step.step_id))
    assert state.approved(planned.step.step_id) is None
    history = request_dict(planned, state, NOW, None)["history"]["attempts"]
    assert history == []

    later = NOW + timedelta(hours=22)  # 09:00 the next morning in New York
    again = DECIDER(planned, "e2", state, later).event
    assert apply_approval(state, again, planned.step.destination, later)
    assert [c.live for c in state.contacts] == [False, True]
    assert len(request_dict(planned, state, later, None)["history"]["attempts"]) == 1


def test_a_step_re_planned_after_expiry_is_decided_afresh_not_replayed() -> None:
    state = known_account()
    planned = STREAM.planned(1, 1)
    stats = GateStats()
    envelope = wrap(planned, "scheduler")
    out = decide_step(DECIDER, planned, envelope, state, NOW, stats)
    first = out[-1].data
    assert isinstance(first, StepApproved)
    apply_delivery(state, expired(planned.step.step_id))

    replanned = wrap(planned, "scheduler")
    later = NOW + timedelta(hours=22)  # 09:00 the next morning in New York
    out = decide_step(DECIDER, planned, replanned, state, later, stats)
    decision, approval = out[0].data, out[-1].data
    assert isinstance(decision, StepDecided)
    assert isinstance(approval, StepApproved)
    assert stats.replays == 0
    assert approval.approved_at == later
    assert approval.send_by is not None
    assert approval.send_by > later
    assert sum(c.live for c in state.contacts) == 1
    assert len(state.contacts) == 2
