"""At most one provider message per step, and none left without a final status: a send
whose outcome is unknown is settled by asking the provider, never resent blindly."""

from __future__ import annotations

from dunning_channels.domain import (
    Accepted,
    AmbiguousSend,
    Found,
    LookupFailed,
    NotFound,
    ReconcilePolicy,
)
from dunning_channels.ports import Parked
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_testkit.channels import (
    FakeSender,
    MemoryPublisher,
    MemoryRetryQueue,
    MemorySendRecords,
    Rig,
    approval,
    rig,
)

POLICY = ReconcilePolicy(settle_s=60.0, give_up_s=600.0, retry_s=30.0)


def reconciling(sender: FakeSender, records: MemorySendRecords | None = None) -> Rig:
    parts = rig(sender, records)
    parts.service.inflight, parts.service.reconcile = MemoryRetryQueue(), POLICY
    return parts


def deliveries(publisher: MemoryPublisher) -> list[tuple[DeliveryStatus, str | None]]:
    return [(e.status, e.error_code) for e in publisher.events() if isinstance(e, DeliveryUpdated)]


async def later(parts: Rig, seconds: float) -> int:
    parts.wall.advance(seconds)
    return await parts.service.reconcile_due()


async def test_a_send_found_at_the_provider_is_recorded_with_its_id() -> None:
    sender = FakeSender(AmbiguousSend("timeout after the request left"))
    sender.found = [Found("SM42")]
    parts = reconciling(sender)
    envelope = approval()
    step_id = envelope.data.step.step_id  # type: ignore[union-attr]
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert deliveries(parts.publisher) == []  # old code: nothing, ever ("pending" for good)
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
    assert deliveries(parts.publisher) == [(DeliveryStatus.ACCEPTED, None)]
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
    assert deliveries(parts.publisher) == []
    for _ in range(30):
        await later(parts, 31)
    assert len(sender.calls) == 1  # never resent
    assert deliveries(parts.publisher) == [(DeliveryStatus.ACCEPTED, "uncertain")]
    assert parts.records.steps == {envelope.data.step.step_id: "uncertain"}  # type: ignore[union-attr]
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
    assert await later(alive, 61) == 1
    await alive.settle()
    assert len(sender.calls) == 1
    assert deliveries(alive.publisher) == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_parked_retry_whose_call_may_be_out_is_left_to_reconciliation() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = reconciling(sender)
    envelope = approval()
    await parts.service.handle(envelope)
    await parts.service.flush()
    sender.calls.clear()
    # As if that call's worker died after the call, its retry lease ran out, and the
    # record was lost: the retry comes back while the step is in flight.
    step_id = envelope.data.step.step_id  # type: ignore[union-attr]
    parts.records.steps[step_id] = "pending"
    item = Parked(envelope, attempts=1, first_attempt_at=parts.wall())
    assert parts.service.inflight is not None
    await parts.service.inflight.park(item, parts.wall() + 60)
    await parts.retries.park(item, parts.wall())
    await parts.settle()
    assert sender.calls == []
