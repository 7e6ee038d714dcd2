"""The guard's allowance follows what calls take lately (``CallTimes``).

The third full chaos run (chaos1796582711) had 33 texts and e-mails accepted at 21:01
local: on a machine at a load average of 16-18, more than the one second allowed passed
between the worker's last check and the provider's acceptance, an hour at 3600x.
"""

from __future__ import annotations

from datetime import timedelta

from dunning_channels.domain import Accepted, CallTimes, SendGuard
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_core.runtime.clock import FixedClock
from dunning_testkit.channels import NOW, FakeSender, approval, rig

SPEED = 3600.0  # a wall second is a simulated hour
GUARD = SendGuard(call_s=1.0, speed=SPEED, floor=timedelta(minutes=5))


def test_the_allowance_is_twice_the_longest_call_of_the_window() -> None:
    calls = CallTimes(window_s=120.0, factor=2.0)
    assert calls.allowance(0.0) == 0.0
    calls.observe(0.2, at=0.0)
    calls.observe(1.5, at=1.0)
    calls.observe(0.3, at=2.0)
    assert calls.allowance(2.0) == 3.0
    # The slow call is forgotten window_s after it; the shorter later one remains.
    assert calls.allowance(121.5) == 0.6
    assert calls.allowance(200.0) == 0.0


def test_a_longer_call_replaces_the_shorter_ones_before_it() -> None:
    calls = CallTimes(window_s=10.0, factor=1.0)
    for at, took in [(0, 0.5), (1, 0.4), (2, 0.9), (3, 0.1)]:
        calls.observe(took, at=at)
    assert calls.allowance(3.0) == 0.9
    assert len(calls._longest) == 2  # 0.9, then 0.1: the others can never be the longest


def test_the_guard_is_widened_never_narrowed() -> None:
    assert GUARD.widened(0.5) is GUARD
    assert GUARD.widened(3.0).margin == timedelta(hours=3, minutes=5)


async def test_after_a_slow_call_the_next_one_needs_room_for_two() -> None:
    clock = FixedClock(NOW)
    parts = rig(FakeSender(Accepted("SM1")), clock=clock)
    parts.service.guard = GUARD

    def slow() -> None:  # the machine is loaded: this call takes 1.5 wall seconds
        parts.wall.advance(1.5)
        clock.advance(timedelta(seconds=1.5 * SPEED))

    parts.service.sender = FakeSender(Accepted("SM1"), on_send=slow)
    await parts.service.handle(approval("acc-1", send_by=NOW + timedelta(hours=4)))
    await parts.service.flush()
    # 2 h 30 min before send_by now: the configured 1 s (1 h 5 min) would let it start,
    # but the last call took 1.5 s; twice that, 3 h 5 min, does not fit.
    await parts.service.handle(approval("acc-2", send_by=clock.now() + timedelta(hours=2.5)))
    await parts.service.flush()
    statuses = [e.status for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)]
    assert statuses == [DeliveryStatus.ACCEPTED, DeliveryStatus.EXPIRED]  # old code: 2 sent
    # Two minutes of quick calls later, the configured allowance is back.
    parts.wall.advance(121.0)
    await parts.service.handle(approval("acc-3", send_by=clock.now() + timedelta(hours=2.5)))
    await parts.service.flush()
    assert [e.status for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)][
        -1
    ] is DeliveryStatus.ACCEPTED
