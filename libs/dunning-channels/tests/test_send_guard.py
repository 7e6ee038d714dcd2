"""``send_by`` honestly: no provider call starts unless it can end before it.

On an accelerated clock a call's wall seconds are many simulated minutes: the fakes here
move the service clock while "the provider" answers, as the real clock does.
"""

from __future__ import annotations

from datetime import timedelta

from dunning_channels.config import ChannelSettings
from dunning_channels.domain import Accepted, Rate, SendGuard, Unavailable
from dunning_channels.ports import Pacing, Parked
from dunning_core.contracts.events import DeliveryStatus
from dunning_core.runtime.clock import FixedClock
from dunning_testkit.channels import (
    NOW,
    FakeSender,
    MemoryJournal,
    MemoryPacer,
    approval,
    rig,
    step_of,
)

SPEED = 60.0  # a wall second is a simulated minute
# Calls take up to 2 wall s (2 simulated min), and 5 simulated min to spare: 7 min.
GUARD = SendGuard(call_s=2.0, speed=SPEED, floor=timedelta(minutes=5))


def test_the_guard_is_the_calls_wall_seconds_at_the_clocks_speed_plus_the_floor() -> None:
    assert GUARD.margin == timedelta(minutes=7)
    assert GUARD.too_late(NOW + timedelta(minutes=7), NOW)
    assert not GUARD.too_late(NOW + timedelta(minutes=8), NOW)
    assert not GUARD.too_late(None, NOW)
    assert GUARD.wall_left_s(NOW + timedelta(minutes=25), NOW) == 20.0  # (25 - 5) min / 60
    assert GUARD.wall_left_s(None, NOW) is None


def test_the_settings_guard_on_an_accelerated_clock() -> None:
    settings = ChannelSettings(group_id="sms", clock_start=NOW, clock_speed=3600)
    # A second of p99 latency is a simulated hour; five minutes to spare.
    assert settings.send_guard().margin == timedelta(hours=1, minutes=5)
    assert ChannelSettings(group_id="sms").send_guard().margin == timedelta(minutes=5, seconds=1)


async def test_a_call_that_cannot_end_before_send_by_is_not_started() -> None:
    clock = FixedClock(NOW)
    # The provider takes 2 wall seconds: 2 simulated minutes pass during the call.
    sender = FakeSender(Accepted("SM1"), on_send=lambda: clock.advance(timedelta(minutes=2)))
    parts = rig(sender, clock=clock, guard=GUARD)
    envelope = approval(send_by=NOW + timedelta(minutes=6))
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert sender.calls == []  # old code: sent, and accepted after send_by
    assert parts.publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    assert parts.records.steps == {}  # free for the re-planned approval


async def test_a_call_with_time_to_spare_is_sent_and_bounded_by_the_time_left() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"), on_send=lambda: clock.advance(timedelta(minutes=2)))
    parts = rig(sender, clock=clock, guard=GUARD)
    await parts.service.handle(approval(send_by=NOW + timedelta(minutes=25)))
    await parts.service.flush()
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
    assert sender.timeouts == [20.0]  # (25 - 5) simulated minutes = 20 wall seconds


async def test_a_retry_that_would_fall_after_send_by_is_not_parked() -> None:
    clock = FixedClock(NOW)
    # Rate limited: come back in 10 wall seconds, 10 simulated minutes, past send_by.
    sender = FakeSender(Unavailable("rate_limited", "429", 10.0), Accepted("SM1"))
    parts = rig(sender, clock=clock, guard=GUARD)
    await parts.service.handle(approval(send_by=NOW + timedelta(minutes=12)))
    await parts.settle()
    assert len(sender.calls) == 1  # old code: parked, then sent 10 min later
    assert parts.retries.items == {}
    assert parts.publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    assert parts.records.steps == {}


async def test_a_parked_retry_claimed_too_late_is_expired_not_sent() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Unavailable("server_error", "503", 1.0), Accepted("SM1"))
    parts = rig(sender, clock=clock, guard=GUARD)
    await parts.service.handle(approval(send_by=NOW + timedelta(minutes=12)))
    await parts.service.flush()
    assert len(parts.retries.items) == 1  # due in a simulated minute or two: parked
    clock.advance(timedelta(minutes=6))  # the worker was down meanwhile
    await parts.settle()
    assert len(sender.calls) == 1
    assert parts.publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]


async def test_a_turn_with_the_provider_after_send_by_is_not_waited_for() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"))
    # One message a minute (wall): the second's turn is a simulated hour away.
    pacing = Pacing(MemoryPacer(), sender=Rate(1 / 60), inline_wait_s=1.0)
    parts = rig(sender, clock=clock, pacing=pacing, guard=GUARD)
    await parts.service.handle(approval("acc-1"))
    await parts.service.handle(approval("acc-2", send_by=NOW + timedelta(minutes=30)))
    await parts.settle()
    assert [account for account, _ in sender.calls] == ["acc-1"]
    assert sorted(parts.publisher.deliveries()) == [
        (DeliveryStatus.ACCEPTED, None),
        (DeliveryStatus.EXPIRED, "send_by_passed"),
    ]


async def test_an_intent_the_broker_took_too_long_to_take_is_withdrawn() -> None:
    clock = FixedClock(NOW)

    class SlowJournal(MemoryJournal):
        async def intend(self, item: Parked, reconcile_at: float) -> None:
            clock.advance(timedelta(minutes=10))  # a broker slow to acknowledge

    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender, clock=clock, guard=GUARD)
    parts.service.journal = journal = SlowJournal()
    envelope = approval(send_by=NOW + timedelta(minutes=15))
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert sender.calls == []
    assert journal.withdrawn == [step_of(envelope)]
    assert parts.publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]


async def test_a_journal_restore_waited_for_before_the_call_counts_against_send_by() -> None:
    # The chaos run's texts accepted outside the hours: the clock was read, then the try
    # waited for another's restore of the journal after a Redis loss (seconds, hours at
    # 3600x), and called the provider after send_by with what time was left: none.
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender, clock=clock, guard=GUARD)
    asked: list[int] = []

    class Journal(MemoryJournal):
        async def restore_if_lost(self) -> bool:
            asked.append(1)
            if len(asked) == 2:  # the last word before the call waits for a restore
                clock.advance(timedelta(hours=1))
            return False

    parts.service.journal = Journal()
    await parts.service.handle(approval(send_by=NOW + timedelta(minutes=30)))
    await parts.service.flush()
    assert sender.calls == []  # old code: called after send_by
    assert parts.publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]
