"""``SendApprovals`` with fakes of our own ports: what is sent, refused, skipped, reported."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import pytest
from dunning_channels.domain import (
    Accepted,
    AmbiguousSend,
    Rejected,
)
from dunning_channels.ports import Parked
from dunning_channels.service import SendApprovals
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryStatus,
    DeliveryUpdated,
    SignalKind,
    StepApproved,
)
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.errors import PermanentError, TransientError
from dunning_testkit.channels import (
    NOW,
    PHONE,
    FakeSender,
    MemoryJournal,
    MemoryPublisher,
    MemorySendRecords,
    approval,
    rig,
    step_of,
)


def worker(
    sender: FakeSender,
    records: MemorySendRecords | None = None,
    *,
    clock: FixedClock | None = None,
    concurrency: int = 32,
) -> tuple[SendApprovals, MemorySendRecords, MemoryPublisher]:
    parts = rig(sender, records, clock=clock, concurrency=concurrency)
    return parts.service, parts.records, parts.publisher


async def test_an_approval_is_sent_recorded_and_reported_accepted() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, records, publisher = worker(sender)
    envelope = approval()
    await service.handle(envelope)
    await service.flush()
    assert len(sender.calls) == 1
    assert records.steps == {step_of(envelope): "SM1"}
    [event] = publisher.events()
    assert isinstance(event, DeliveryUpdated)
    assert (event.status, event.provider, event.provider_message_id) == (
        DeliveryStatus.ACCEPTED,
        "twilio",
        "SM1",
    )
    assert await records.owners(PHONE) == {"acc-1"}
    assert service.sent == 1


async def test_content_whose_hash_differs_from_the_vetted_one_is_refused_unsent() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, records, publisher = worker(sender)
    await service.handle(approval(body="Pay now or else.", vetted_body="A friendly reminder."))
    await service.flush()
    assert sender.calls == []
    assert records.steps == {}
    assert publisher.deliveries() == [(DeliveryStatus.REFUSED, "content_hash_mismatch")]
    [event] = publisher.events()
    assert event.provider == "none"


async def test_a_destination_suppressed_since_the_approval_is_skipped() -> None:
    sender = FakeSender(Accepted("SM1"))
    records = MemorySendRecords()
    await records.suppress(PHONE)
    service, _, publisher = worker(sender, records)
    await service.handle(approval())
    await service.flush()
    assert sender.calls == []
    assert publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]


async def test_a_duplicate_approval_is_sent_once() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, _, publisher = worker(sender)
    await service.handle(approval())
    await service.flush()
    # The same step again, under a new event id (a replayed plan the gate approved again).
    again = approval(event_id="another-event-id")
    await service.handle(again)
    await service.flush()
    assert len(sender.calls) == 1
    assert publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
    assert service.skipped == 1


async def test_an_ambiguous_send_is_never_resent() -> None:
    sender = FakeSender(AmbiguousSend("timeout after the request left"), Accepted("SM2"))
    service, records, publisher = worker(sender)
    envelope = approval()
    await service.handle(envelope)
    await service.flush()  # nothing to retry: the batch is done
    await service.handle(envelope)  # redelivered anyway
    await service.flush()
    assert len(sender.calls) == 1
    assert records.steps == {step_of(envelope): "pending"}
    assert publisher.events() == []
    assert service.ambiguous == 1


async def test_a_provider_rejection_is_reported_and_recorded_not_retried() -> None:
    sender = FakeSender(Rejected("21211", "invalid 'To' number"))
    service, records, publisher = worker(sender)
    envelope = approval()
    await service.handle(envelope)
    await service.flush()
    assert len(sender.calls) == 1
    assert publisher.deliveries() == [(DeliveryStatus.REJECTED, "21211")]
    assert records.steps == {step_of(envelope): "rejected:21211"}
    assert not await records.is_suppressed(PHONE)
    assert not [e for e in publisher.events() if isinstance(e, ConsumerSignaled)]


async def test_an_opt_out_answer_suppresses_the_destination_and_signals_it() -> None:
    sender = FakeSender(Rejected("21610", "unsubscribed recipient", opted_out=True))
    service, records, publisher = worker(sender)
    await service.handle(approval())
    await service.flush()
    assert publisher.deliveries() == [(DeliveryStatus.REJECTED, "21610")]
    assert await records.is_suppressed(PHONE)
    [signal] = [e for e in publisher.events() if isinstance(e, ConsumerSignaled)]
    assert (signal.kind, signal.account_id, signal.address, signal.source) == (
        SignalKind.OPTED_OUT,
        "acc-1",
        PHONE,
        "provider",
    )
    # and the next approval for that number is not sent
    await service.handle(approval(attempt=2))
    await service.flush()
    assert len(sender.calls) == 1


async def test_a_transient_failure_is_retried_until_the_provider_answers() -> None:
    sender = FakeSender(TransientError("429"), TransientError("503"), Accepted("SM3"))
    parts = rig(sender)
    service, publisher = parts.service, parts.publisher
    await service.handle(approval())
    await parts.settle()
    assert len(sender.calls) == 3
    assert publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_failure_before_sending_frees_the_step_for_the_redelivered_batch() -> None:
    records = MemorySendRecords()
    sender = FakeSender(RuntimeError("bug before the request"), Accepted("SM4"))
    service, _, publisher = worker(sender, records)
    envelope = approval()
    await service.handle(envelope)
    with pytest.raises(TransientError):
        await service.flush()
    assert records.steps == {}
    await service.handle(envelope)
    await service.flush()
    assert publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_an_approval_of_another_channel_is_dead_lettered() -> None:
    service, _, _ = worker(FakeSender(Accepted("SM1")))
    service.channel = Channel.EMAIL
    with pytest.raises(PermanentError):
        await service.handle(approval())


# --- send_by: never sent after the approved window closes -------------------------------


async def test_an_approval_past_its_send_by_is_expired_not_sent() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, records, publisher = worker(sender)
    envelope = approval(send_by=NOW)  # the window closes at the instant the clock reads
    await service.handle(envelope)
    await service.flush()
    assert sender.calls == []
    assert publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    [event] = publisher.events()
    assert event.provider == "none"
    assert records.steps == {}  # free for the re-planned approval


async def test_a_step_re_planned_in_the_window_it_expired_in_expires_again_as_news() -> None:
    # The chaos run's "expired, never re-planned": re-planned and approved again before the
    # same window closed, the step had the same send_by; its second expiry took the first
    # one's event id, and the scheduler dropped it as a duplicate.
    service, _, publisher = worker(FakeSender(Accepted("SM1")))
    first = approval(send_by=NOW)
    data = first.data
    assert isinstance(data, StepApproved)
    later = data.step.model_copy(update={"send_at": NOW + timedelta(minutes=30)})
    replanned = wrap(data.model_copy(update={"step": later}), "gate")
    for envelope in (first, replanned, first):  # the first one also redelivered
        await service.handle(envelope)
    await service.flush()
    ids = [e.id for e in publisher.sent]
    assert ids[0] != ids[1]  # old code: the same id, the re-plan's expiry lost as a repeat
    assert ids[2] == ids[0]  # a redelivery is still one expiry


async def test_send_by_passing_during_retries_stops_them_before_the_next_call() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(
        TransientError("503"),
        Accepted("SM1"),
        on_send=lambda: clock.advance(timedelta(minutes=5)),
    )
    parts = rig(sender, clock=clock)
    service, records, publisher = parts.service, parts.records, parts.publisher
    await service.handle(approval(send_by=NOW + timedelta(minutes=2)))
    await parts.settle()
    assert len(sender.calls) == 1
    assert publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    assert records.steps == {}


async def test_an_approval_waiting_for_a_send_slot_past_its_send_by_is_not_sent() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"), on_send=lambda: clock.advance(timedelta(minutes=5)))
    service, _, publisher = worker(sender, clock=clock, concurrency=1)
    await service.handle(approval("acc-1"))
    await service.handle(approval("acc-2", send_by=NOW + timedelta(minutes=1)))
    await service.flush()
    assert [account for account, _ in sender.calls] == ["acc-1"]
    assert sorted(publisher.deliveries()) == [
        (DeliveryStatus.ACCEPTED, None),
        (DeliveryStatus.EXPIRED, "send_by_passed"),
    ]


async def test_an_approval_within_its_send_by_is_sent() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, _, publisher = worker(sender)
    await service.handle(approval(send_by=NOW + timedelta(seconds=1)))
    await service.flush()
    assert publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_redelivered_approval_of_a_sent_step_is_not_refused_after_the_send() -> None:
    # Chaos stp_de642766-...: delivered, then refused (the consumer opted out after the
    # send and the approval came again): two final statuses that contradict each other.
    sender = FakeSender(Accepted("SM1"))
    service, records, publisher = worker(sender)
    await service.handle(approval())
    await service.flush()
    await records.suppress(PHONE)
    await service.handle(approval(event_id="redelivered"))
    await service.flush()
    assert publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]  # old code: + refused
    assert service.skipped == 1


async def test_a_redelivered_approval_of_a_sent_step_does_not_expire_it() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"))
    service, records, publisher = worker(sender, clock=clock)
    await service.handle(approval(send_by=NOW + timedelta(hours=2)))
    await service.flush()
    clock.advance(timedelta(hours=3))
    await service.handle(approval(send_by=NOW + timedelta(hours=2), event_id="redelivered"))
    await service.flush()
    assert publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]  # old code: + expired
    assert records.steps != {}


async def test_a_step_that_expires_between_retries_leaves_no_intent_to_restore() -> None:
    # A restore after a Redis flush reserves every step with an intent: one tried, then
    # expired and released, came back reserved and its re-planned approval was skipped.
    clock = FixedClock(NOW)
    sender = FakeSender(TransientError("429"), on_send=lambda: clock.advance(timedelta(minutes=5)))
    parts = rig(sender, clock=clock)
    journal = MemoryJournal()
    parts.service.journal = journal
    await parts.service.handle(approval(send_by=NOW + timedelta(minutes=2)))
    await parts.settle()
    assert parts.publisher.deliveries() == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    assert parts.records.steps == {}
    assert journal.intents == set()  # old code: the step's intent stayed


async def test_a_journal_that_cannot_take_the_settled_record_still_reports_the_send() -> None:
    class AwayJournal(MemoryJournal):
        async def settled(self, item: Parked, outcome: str | None = None) -> Awaitable[Any] | None:
            raise ConnectionError("broker away")  # in flight in the journal: reconciled

    parts = rig(FakeSender(Accepted("SM1")))
    parts.service.journal = AwayJournal()
    envelope = approval()
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
    assert parts.records.steps == {step_of(envelope): "SM1"}


async def test_the_journal_keeps_each_recorded_outcome_and_a_redelivery_writes_it_again() -> None:
    # A Redis lost after the journal's first write was lost (a broker's leader election)
    # gave a rejected step back as one to reconcile; the provider, asked, had no message
    # for it, and it went again (chaos1796619349: rejected, then refused).
    parts = rig(FakeSender(Rejected("21211", "invalid 'To' number")))
    parts.service.journal = journal = MemoryJournal()
    envelope = approval()
    step_id = step_of(envelope)
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert journal.outcomes == {step_id: "rejected:21211"}  # old code: {}
    journal.outcomes.clear()  # that write lost
    await parts.service.handle(approval(event_id="redelivered"))
    await parts.service.flush()
    assert journal.outcomes == {step_id: "rejected:21211"}
    assert parts.publisher.deliveries() == [(DeliveryStatus.REJECTED, "21211")]  # once
