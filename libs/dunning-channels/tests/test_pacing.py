"""Pacing: turns shared by a provider's and a sender's buckets, in the order reserved."""

from __future__ import annotations

from datetime import timedelta

from dunning_channels.domain import Accepted, Rate, next_turn
from dunning_channels.ports import Pacing
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_core.runtime.clock import FixedClock
from dunning_testkit.channels import NOW, FakeSender, MemoryPacer, approval, rig


def turns(rates: list[Rate], count: int, now: float = 0.0) -> list[float]:
    tats: list[float | None] = [None] * len(rates)
    found = []
    for _ in range(count):
        turn, moved = next_turn(tats, rates, now)
        tats = list(moved)
        found.append(turn)
    return found


def test_one_send_a_second_goes_one_a_second_in_order() -> None:
    assert turns([Rate(1.0)], 4, now=100.0) == [100.0, 101.0, 102.0, 103.0]


def test_a_burst_goes_at_once_then_the_rate_holds() -> None:
    assert turns([Rate(2.0, burst=3)], 5) == [0.0, 0.0, 0.0, 0.5, 1.0]


def test_the_slowest_bucket_sets_the_turn() -> None:
    provider, sender = Rate(100.0), Rate(1.0)
    assert turns([provider, sender], 3) == [0.0, 1.0, 2.0]


def test_an_idle_bucket_starts_afresh() -> None:
    turn, moved = next_turn([5.0], [Rate(1.0)], now=60.0)
    assert (turn, moved) == (60.0, [61.0])


def deliveries(events: list[object]) -> list[tuple[str, DeliveryStatus]]:
    return [(e.account_id, e.status) for e in events if isinstance(e, DeliveryUpdated)]


async def test_paced_approvals_wait_parked_for_their_turn_and_keep_their_order() -> None:
    sender = FakeSender(Accepted("SM1"))
    pacing = Pacing(MemoryPacer(), provider=None, sender=Rate(1.0), inline_wait_s=0.0)
    parts = rig(sender, pacing=pacing)
    for n in range(3):
        await parts.service.handle(approval(f"acc-{n}"))
    await parts.service.flush()
    assert [a for a, _ in sender.calls] == ["acc-0"]  # the others' turns are later
    due = sorted((at, item.envelope.data.account_id) for at, item in parts.retries.items.values())
    start = parts.wall.now
    assert due == [(start + 1.0, "acc-1"), (start + 2.0, "acc-2")]
    await parts.settle()
    assert [a for a, _ in sender.calls] == ["acc-0", "acc-1", "acc-2"]
    assert parts.service.paced == 2


async def test_one_whose_turn_comes_after_its_send_by_is_expired_not_sent_late() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"))
    pacing = Pacing(MemoryPacer(), sender=Rate(1 / 60), inline_wait_s=0.0)  # one a minute
    parts = rig(sender, clock=clock, pacing=pacing)
    await parts.service.handle(approval("acc-0"))
    await parts.service.handle(approval("acc-1", send_by=NOW + timedelta(seconds=30)))
    await parts.service.flush()
    clock.advance(timedelta(seconds=60))  # the service clock reaches the turn with the wall
    await parts.settle()
    assert [a for a, _ in sender.calls] == ["acc-0"]
    # (acc-1 now expires as its turn is reserved, before acc-0's call ends: any order.)
    assert sorted(deliveries(parts.publisher.events())) == [
        ("acc-0", DeliveryStatus.ACCEPTED),
        ("acc-1", DeliveryStatus.EXPIRED),
    ]
