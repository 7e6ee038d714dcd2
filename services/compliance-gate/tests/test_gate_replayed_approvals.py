"""A step approved before is announced again as it was (a replay: the gate restarted
before committing its offsets), with the same ``send_by``: never without one.

The chaos run's "accepted 2026-03-08 06:26 America/Adak" was such a replay: judged again
at its instant with its own contact already counted, it was deferred by the frequency cap,
so the approval went out with no ``send_by`` and the worker sent it the next morning.
"""

from __future__ import annotations

from datetime import timedelta

from dunning_core.contracts import wrap
from dunning_core.contracts.events import ConsumerSignaled, SignalKind, StepApproved
from dunning_gate.domain.state import AccountState, apply_account, apply_signal
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider, GateStats, decide_step
from dunning_testkit.gate import NOW, NewYorkSms

STREAM = NewYorkSms("R")
DECIDER = GateDecider(default_policy())


def known_account() -> AccountState:
    state = AccountState(account_id=STREAM.account_id(1))
    apply_account(state, STREAM.account(1))
    return state


def approve(state: AccountState, stats: GateStats, hours_later: float = 0) -> StepApproved:
    planned = STREAM.planned(1, 1)
    now = NOW + timedelta(hours=hours_later)
    out = decide_step(DECIDER, planned, wrap(planned, "scheduler"), state, now, stats)
    approval = out[-1].data
    assert isinstance(approval, StepApproved)
    return approval


def test_a_replayed_approval_keeps_its_send_by() -> None:
    state, stats = known_account(), GateStats()
    first = approve(state, stats)
    assert first.send_by is not None
    again = approve(state, stats, hours_later=3)  # the gate restarted meanwhile
    assert stats.replays == 1
    assert again.send_by == first.send_by  # old code: None, sent whenever
    assert again.approved_at == first.approved_at


def test_a_replay_that_can_no_longer_be_judged_allowed_lapses_at_once() -> None:
    state, stats = known_account(), GateStats()
    first = approve(state, stats)
    apply_signal(
        state,
        ConsumerSignaled(
            account_id=STREAM.account_id(1),
            signal_id="sig-1",
            kind=SignalKind.CEASE_REQUESTED,
            source="operator",
            occurred_at=NOW + timedelta(hours=1),
        ),
    )
    again = approve(state, stats, hours_later=3)
    # Never an approval without a send_by: this one has lapsed, the worker expires it.
    assert again.send_by is not None
    assert again.send_by <= first.approved_at + timedelta(hours=3)
