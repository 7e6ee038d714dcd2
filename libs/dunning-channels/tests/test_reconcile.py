"""At most one provider message per step, and none left without a final status: a send
whose outcome is unknown is settled by asking the provider, never resent blindly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from dunning_channels.domain import (
    Accepted,
    AmbiguousSend,
    Found,
    LookupFailed,
    NotFound,
    ReconcilePolicy,
    Unavailable,
)
from dunning_channels.ports import Parked
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_core.runtime.clock import FixedClock
from dunning_testkit.channels import (
    NOW,
    FakeSender,
    MemoryJournal,
    MemoryRetryQueue,
    MemorySendRecords,
    Rig,
    approval,
    rig,
    step_of,
)

POLICY = ReconcilePolicy(settle_s=60.0, give_up_s=600.0, retry_s=30.0)


def reconciling(sender: FakeSender, records: MemorySendRecords | None = None) -> Rig:
    parts = rig(sender, records)
    parts.service.inflight, parts.service.reconcile = MemoryRetryQueue(), POLICY
    return parts


async def later(parts: Rig, seconds: float) -> int:
    parts.wall.advance(seconds)
    return await parts.service.reconcile_due()


async def test_a_send_found_at_the_provider_is_recorded_with_its_id() -> None:
    sender = FakeSender(AmbiguousSend("timeout after the request left"))
    sender.found = [Found("SM42")]
    parts = reconciling(sender)
    envelope = approval()
    step_id = step_of(envelope)
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert parts.publisher.deliveries() == []  # old code: nothing, ever ("pending" for good)
    assert await later(parts, 30) == 0  # not before it settles
    assert await later(parts, 31) == 1
    assert len(sender.calls) == 1
    assert parts.records.steps == {step_id: "SM42"}
    [event] = [e for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)]
    assert (event.status, event.provider_message_id) == (DeliveryStatus.ACCEPTED, "SM42")
    assert await later(parts, 600) == 0  # settled


async def test_a_send_the_provider_never_got_is_sent_once_more() -> None:
    sender = FakeSender(AmbiguousSend("timeout before the request left"), Accepted("SM7"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    await parts.service.handle(approval())
    await parts.service.flush()
    assert await later(parts, 61) == 1
    await parts.settle()  # the retry it parked
    assert len(sender.calls) == 2
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
    assert await later(parts, 600) == 0
    assert parts.service.resent == 1


async def test_a_provider_that_cannot_be_asked_leaves_the_step_uncertain_not_resent() -> None:
    sender = FakeSender(AmbiguousSend("timeout after the request left"))
    sender.found = [LookupFailed("503")]
    parts = reconciling(sender)
    envelope = approval()
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert await later(parts, 61) == 1
    assert await later(parts, 31) == 1  # asked again
    assert parts.publisher.deliveries() == []
    for _ in range(30):
        await later(parts, 31)
    assert len(sender.calls) == 1  # never resent
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, "uncertain")]
    assert parts.records.steps == {step_of(envelope): "uncertain"}
    assert await later(parts, 600) == 0


async def test_a_worker_dying_between_the_reservation_and_the_record_is_reconciled() -> None:
    sender = FakeSender(Accepted("SM1"))
    sender.found = [NotFound()]
    dead = reconciling(sender)
    envelope = approval()
    await dead.service.handle(envelope)  # reserved, in flight; killed before the call
    for task in dead.service._pending:
        task.cancel()
    # Its replacement shares the stores; the approval comes again (the batch was not
    # committed) and is a duplicate of the reserved step.
    alive = reconciling(sender, dead.records)
    alive.service.inflight = dead.service.inflight
    alive.wall, alive.retries = dead.wall, dead.retries
    alive.service.wall, alive.service.retries = dead.wall, dead.retries
    await alive.service.handle(envelope)
    await alive.service.flush()
    assert sender.calls == []  # old code: and never after ("pending" for 90 days)
    assert await later(alive, 61 + alive.service.pre_call_s) == 1
    await alive.settle()
    assert len(sender.calls) == 1
    assert alive.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_parked_retry_whose_call_may_be_out_is_left_to_reconciliation() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = reconciling(sender)
    envelope = approval()
    await parts.service.handle(envelope)
    await parts.service.flush()
    sender.calls.clear()
    # As if that call's worker died after the call, its retry lease ran out, and the
    # record was lost: the retry comes back while the step is in flight.
    step_id = step_of(envelope)
    parts.records.steps[step_id] = "pending"
    item = Parked(envelope, attempts=1, first_attempt_at=parts.wall())
    assert parts.service.inflight is not None
    await parts.service.inflight.park(item, parts.wall() + 60)
    await parts.retries.park(item, parts.wall())
    await parts.service.retry_due()
    await parts.service.drain_retries()
    assert sender.calls == []
    assert step_id in parts.retries.items  # kept, asked again later: not dropped


async def test_an_approval_that_finds_its_step_pending_hands_it_to_the_sweeper() -> None:
    # The chaos run's "approved, never sent": a worker reserved the step and was killed
    # before its in-flight entry reached the journal, Redis was flushed later; the other
    # replica, given the approval again meanwhile, skipped it: nobody ever sent it.
    sender = FakeSender(Accepted("SM1"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    envelope = approval()
    await parts.records.reserve(step_of(envelope))
    await parts.service.handle(envelope)  # the redelivery
    await parts.service.flush()
    assert sender.calls == []  # not resent blindly: the first worker's call may be out there
    assert (
        await later(parts, 61 + parts.service.pre_call_s) == 1
    )  # old code: 0, nothing in flight, never sent
    await parts.settle()
    assert len(sender.calls) == 1
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_re_plan_that_finds_its_step_pending_is_the_one_sent() -> None:
    # The first approval's send was never made and awaits its reconciliation; the re-plan's
    # approval arrives meanwhile: sent with the re-plan's approval (its own send_by).
    sender = FakeSender(Accepted("SM1"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    first = approval(send_by=NOW + timedelta(hours=1))
    await parts.records.reserve(step_of(first))
    await parts.service.inflight.park(Parked(first, 0, parts.wall()), parts.wall() + 60)  # type: ignore[union-attr]
    replan = approval(send_by=NOW + timedelta(hours=6), event_id="replan")
    await parts.service.handle(replan)
    await parts.service.flush()
    parts.service.clock = FixedClock(NOW + timedelta(hours=2))  # the first one's window closed
    assert (
        await later(parts, 61 + parts.service.pre_call_s) == 1
    )  # the re-plan's approval took the entry over
    await parts.settle()
    assert len(sender.calls) == 1  # old code: none (skipped, then the first one expired)
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_retry_that_finds_its_step_adopted_leaves_it_to_the_sweeper() -> None:
    # chaos1796575711's "approved, never sent": the first try got a 429 and was parked; its
    # batch failed on another send and came again, and the redelivery handed the pending
    # step to the sweeper; the retry then found it in flight and stood down, but took it
    # out of flight on its way out: no retry, nothing in flight, reserved for good.
    sender = FakeSender(Unavailable("rate_limited", "429", retry_after_s=2.0), Accepted("SM1"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    envelope = approval()
    step_id = step_of(envelope)
    await parts.service.handle(envelope)
    await parts.service.flush()  # 429: parked
    await parts.service.handle(envelope)
    await parts.service.flush()  # the redelivery: adopted
    parts.wall.advance(3)
    await parts.service.retry_due()
    await parts.service.drain_retries()
    assert len(sender.calls) == 1  # the retry stands back: the sweeper has it
    assert parts.service.inflight is not None
    assert await parts.service.inflight.holds(step_id)  # old code: False, lost
    assert await later(parts, 61 + parts.service.pre_call_s) == 1
    await parts.settle()
    assert len(sender.calls) == 2
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_retry_due_before_the_sweeper_lets_go_of_its_step_is_not_dropped() -> None:
    # chaos1796577781's five "approved, never sent": the sweeper found the step not at the
    # provider and parked its retry (due 1 s later) before taking the step out of flight;
    # on a loaded machine the retry came first, found the step in flight and was dropped.
    sender = FakeSender(AmbiguousSend("timeout before the request left"), Accepted("SM7"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    envelope = approval()
    step_id = step_of(envelope)
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert parts.service.inflight is not None
    [item] = [i for _, i in parts.service.inflight.items.values()]  # type: ignore[attr-defined]
    await parts.records.release(step_id)  # the sweeper's first moves: released, retry parked
    await parts.retries.park(item, parts.wall() + 1.0)
    parts.wall.advance(1.0)
    await parts.service.retry_due()  # ... and the retry runs before it lets go
    await parts.service.drain_retries()
    await parts.service.inflight.done(step_id)  # now it does
    assert len(sender.calls) == 1
    await parts.settle()
    assert len(sender.calls) == 2  # old code: 1, the retry dropped, never sent
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


class HeldBarrier:
    """A signals barrier that lets sends through only when ``held`` is set."""

    def __init__(self) -> None:
        self.held = asyncio.Event()

    async def wait(self) -> None:
        await self.held.wait()


async def held_at_the_barrier(parts: Rig) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """One approval handled and its batch flushing, its send held at the barrier."""
    barrier = HeldBarrier()
    parts.service.signals = barrier
    await parts.service.handle(approval())
    flushing = asyncio.create_task(parts.service.flush())
    await asyncio.sleep(0.05)
    return barrier.held, flushing


async def test_a_send_held_before_its_call_is_not_taken_by_the_sweeper_and_sent_twice() -> None:
    """chaos1796600947: three texts went out twice. Each send had been admitted (in flight,
    due for the sweeper ``settle_s`` later) and then held 20 s by the signals barrier; the
    sweeper took it, found nothing at the provider, released it and parked a retry; the
    barrier's round then let the held send and the retry go together."""
    sender = FakeSender(Accepted("SM1"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    parts.service.pre_call_s = 120.0  # above the barrier's longest hold
    held, flushing = await held_at_the_barrier(parts)
    assert sender.calls == []  # at the barrier
    assert await later(parts, POLICY.settle_s + 1) == 0  # old code: 1, resent
    held.set()
    await flushing
    await parts.settle()
    assert len(sender.calls) == 1
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
    assert await later(parts, 600) == 0  # recorded, nothing left in flight


async def test_a_send_held_past_its_allowance_leaves_the_step_to_the_sweeper() -> None:
    """Held longer than ``pre_call_s`` (a broker slow to take the intent), a send no longer
    calls: the sweeper may have taken the step by then. It asks, then sends it once."""
    sender = FakeSender(Accepted("SM1"))
    sender.found = [NotFound()]
    parts = reconciling(sender)
    held, flushing = await held_at_the_barrier(parts)
    parts.wall.advance(parts.service.pre_call_s + 1)
    held.set()
    await flushing
    assert sender.calls == []  # old code: called, while the sweeper could take it too
    assert await later(parts, POLICY.settle_s) == 1  # asked: not there
    parts.service.signals = None
    await parts.settle()  # its one retry
    assert len(sender.calls) == 1
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_an_adopted_step_is_journalled_in_flight_before_its_offset_moves() -> None:
    # chaos1796621055's three "approved, never sent": a worker reserved them and was killed
    # in its broker round, before it journalled the intent; the other replica adopted the
    # redelivered approvals into Redis alone, committed their offsets, and Redis was
    # flushed 40 s later: nothing anywhere remembered them.
    parts = reconciling(FakeSender(Accepted("SM1")))
    parts.service.journal = journal = MemoryJournal()
    envelope = approval()
    step_id = step_of(envelope)
    assert await parts.records.reserve(step_id) is None  # the dead worker's reservation
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert parts.service.skipped == 1
    assert journal.intents == {step_id}  # old code: set() (in Redis only)
