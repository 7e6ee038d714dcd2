"""``SendApprovals`` with fakes of our own ports: what is sent, refused, skipped, reported."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from dunning_channels.domain import (
    Accepted,
    AmbiguousSend,
    BreakerState,
    CircuitBreaker,
    Rejected,
    RetryPolicy,
    Unavailable,
)
from dunning_channels.service import SendApprovals
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryStatus,
    DeliveryUpdated,
    SignalKind,
)
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.errors import PermanentError, TransientError
from dunning_testkit.channels import (
    NOW,
    PHONE,
    FakeSender,
    FakeWall,
    MemoryDeadLetters,
    MemoryPublisher,
    MemoryRetryQueue,
    MemorySendRecords,
    approval,
)


@dataclass
class Rig:
    service: SendApprovals
    records: MemorySendRecords
    publisher: MemoryPublisher
    retries: MemoryRetryQueue
    dead: MemoryDeadLetters
    wall: FakeWall

    async def settle(self, rounds: int = 50) -> None:
        """Flush the batch, then run every parked retry as it falls due."""
        await self.service.flush()
        for _ in range(rounds):
            if not self.retries.items:
                return
            self.wall.now = max(self.wall.now, min(at for at, _ in self.retries.items.values()))
            await self.service.retry_due()
            await self.service.drain_retries()
        raise AssertionError("retries never ended")


def rig(
    sender: FakeSender,
    records: MemorySendRecords | None = None,
    *,
    clock: FixedClock | None = None,
    concurrency: int = 32,
    policy: RetryPolicy | None = None,
) -> Rig:
    records = records or MemorySendRecords()
    publisher = MemoryPublisher()
    retries = MemoryRetryQueue()
    dead = MemoryDeadLetters()
    wall = FakeWall()
    service = SendApprovals(
        service="sms",
        channel=Channel.SMS,
        sender=sender,
        records=records,
        publisher=publisher,
        clock=clock or FixedClock(NOW),
        retries=retries,
        dead_letters=dead,
        policy=policy,
        concurrency=concurrency,
        wall=wall,
        rand=lambda: 0.5,
    )
    return Rig(service, records, publisher, retries, dead, wall)


def worker(
    sender: FakeSender,
    records: MemorySendRecords | None = None,
    *,
    clock: FixedClock | None = None,
    concurrency: int = 32,
) -> tuple[SendApprovals, MemorySendRecords, MemoryPublisher]:
    parts = rig(sender, records, clock=clock, concurrency=concurrency)
    return parts.service, parts.records, parts.publisher


def deliveries(publisher: MemoryPublisher) -> list[tuple[DeliveryStatus, str | None]]:
    return [(e.status, e.error_code) for e in publisher.events() if isinstance(e, DeliveryUpdated)]


async def test_an_approval_is_sent_recorded_and_reported_accepted() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, records, publisher = worker(sender)
    envelope = approval()
    await service.handle(envelope)
    await service.flush()
    assert len(sender.calls) == 1
    assert records.steps == {envelope.data.step.step_id: "SM1"}  # type: ignore[union-attr]
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
    assert deliveries(publisher) == [(DeliveryStatus.REFUSED, "content_hash_mismatch")]
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
    assert deliveries(publisher) == [(DeliveryStatus.REFUSED, "suppressed")]


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
    assert deliveries(publisher) == [(DeliveryStatus.ACCEPTED, None)]
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
    assert records.steps == {envelope.data.step.step_id: "pending"}  # type: ignore[union-attr]
    assert publisher.events() == []
    assert service.ambiguous == 1


async def test_a_provider_rejection_is_reported_and_recorded_not_retried() -> None:
    sender = FakeSender(Rejected("21211", "invalid 'To' number"))
    service, records, publisher = worker(sender)
    envelope = approval()
    await service.handle(envelope)
    await service.flush()
    assert len(sender.calls) == 1
    assert deliveries(publisher) == [(DeliveryStatus.REJECTED, "21211")]
    assert records.steps == {envelope.data.step.step_id: "rejected:21211"}  # type: ignore[union-attr]
    assert not await records.is_suppressed(PHONE)
    assert not [e for e in publisher.events() if isinstance(e, ConsumerSignaled)]


async def test_an_opt_out_answer_suppresses_the_destination_and_signals_it() -> None:
    sender = FakeSender(Rejected("21610", "unsubscribed recipient", opted_out=True))
    service, records, publisher = worker(sender)
    await service.handle(approval())
    await service.flush()
    assert deliveries(publisher) == [(DeliveryStatus.REJECTED, "21610")]
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
    assert deliveries(publisher) == [(DeliveryStatus.ACCEPTED, None)]


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
    assert deliveries(publisher) == [(DeliveryStatus.ACCEPTED, None)]


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
    assert deliveries(publisher) == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    [event] = publisher.events()
    assert event.provider == "none"
    assert records.steps == {}  # free for the re-planned approval


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
    assert deliveries(publisher) == [(DeliveryStatus.EXPIRED, "send_by_passed")]
    assert records.steps == {}


async def test_an_approval_waiting_for_a_send_slot_past_its_send_by_is_not_sent() -> None:
    clock = FixedClock(NOW)
    sender = FakeSender(Accepted("SM1"), on_send=lambda: clock.advance(timedelta(minutes=5)))
    service, _, publisher = worker(sender, clock=clock, concurrency=1)
    await service.handle(approval("acc-1"))
    await service.handle(approval("acc-2", send_by=NOW + timedelta(minutes=1)))
    await service.flush()
    assert [account for account, _ in sender.calls] == ["acc-1"]
    assert sorted(deliveries(publisher)) == [
        (DeliveryStatus.ACCEPTED, None),
        (DeliveryStatus.EXPIRED, "send_by_passed"),
    ]


async def test_an_approval_within_its_send_by_is_sent() -> None:
    sender = FakeSender(Accepted("SM1"))
    service, _, publisher = worker(sender)
    await service.handle(approval(send_by=NOW + timedelta(seconds=1)))
    await service.flush()
    assert deliveries(publisher) == [(DeliveryStatus.ACCEPTED, None)]


# --- retries: bounded per step, parked so that they hold back no other step -------------

BAD = "+14155550429"


async def test_a_destination_that_always_fails_holds_back_no_other() -> None:
    sender = FakeSender(
        Accepted("SM-good"), by_destination={BAD: [Unavailable("server_error", "500")]}
    )
    parts = rig(sender, concurrency=2)
    await parts.service.handle(approval("acc-bad", destination=BAD))
    for n in range(10):
        await parts.service.handle(approval(f"acc-{n}"))
    # The batch is done once the failing step is parked: no waiting for its retries.
    await asyncio.wait_for(parts.service.flush(), timeout=5)
    assert deliveries(parts.publisher) == [(DeliveryStatus.ACCEPTED, None)] * 10
    assert list(parts.retries.items) == [approval("acc-bad", destination=BAD).data.step.step_id]  # type: ignore[union-attr]


async def test_retries_end_when_the_attempts_are_spent_failed_and_dead_lettered() -> None:
    sender = FakeSender(Unavailable("server_error", "HTTP 500 from twilio"))
    parts = rig(sender, policy=RetryPolicy(max_attempts=4, max_seconds=3600))
    envelope = approval(destination=BAD)
    await parts.service.handle(envelope)
    await parts.settle()
    assert len(sender.calls) == 4
    assert parts.retries.items == {}
    [event] = parts.publisher.events()
    assert isinstance(event, DeliveryUpdated)
    assert (event.status, event.error_code, event.provider) == (
        DeliveryStatus.FAILED,
        "retry_budget_spent",
        "twilio",
    )
    assert event.detail is not None
    assert "4 attempts" in event.detail
    assert "server_error" in event.detail
    [(letter, reason)] = parts.dead.letters
    assert letter.id == envelope.id
    assert reason == event.detail
    step_id = envelope.data.step.step_id  # type: ignore[union-attr]
    assert parts.records.steps[step_id] == "failed:retry_budget_spent"
    # a redelivered approval of the failed step is not tried again
    await parts.service.handle(envelope)
    await parts.settle()
    assert len(sender.calls) == 4


async def test_retries_end_when_the_seconds_are_spent() -> None:
    sender = FakeSender(Unavailable("rate_limited", "429", retry_after_s=50.0))
    parts = rig(sender, policy=RetryPolicy(max_attempts=100, max_seconds=120))
    await parts.service.handle(approval())
    await parts.settle()
    assert len(sender.calls) == 3  # at 0, 50 and 100 s; the next would be past 120 s
    assert deliveries(parts.publisher) == [(DeliveryStatus.FAILED, "retry_budget_spent")]
    assert len(parts.dead.letters) == 1


async def test_a_retry_waits_at_least_what_the_provider_asked() -> None:
    sender = FakeSender(Unavailable("rate_limited", "429", retry_after_s=30.0), Accepted("SM1"))
    parts = rig(sender, policy=RetryPolicy(initial_s=1.0))
    start = parts.wall.now
    await parts.service.handle(approval())
    await parts.service.flush()
    [(due_at, item)] = parts.retries.items.values()
    assert due_at == start + 30.0
    assert item.attempts == 1
    parts.wall.advance(29.0)
    assert await parts.service.retry_due() == 0
    parts.wall.advance(1.0)
    assert await parts.service.retry_due() == 1
    await parts.service.drain_retries()
    assert deliveries(parts.publisher) == [(DeliveryStatus.ACCEPTED, None)]
    assert parts.retries.items == {}


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_s=1.0, maximum_s=8.0)
    assert [policy.backoff(n, rand=1.0) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    assert [policy.backoff(n, rand=0.0) for n in range(1, 5)] == [0.5, 1, 2, 4]


# --- the provider's circuit breaker ----------------------------------------------------------


async def test_a_provider_that_is_down_is_not_called_while_its_circuit_is_open() -> None:
    down = [Unavailable("server_error", "503")]
    sender = FakeSender(Accepted("SM1"), by_destination={PHONE: down})
    parts = rig(sender)
    parts.service.breaker = CircuitBreaker(window=3, min_calls=3, failure_ratio=1.0, open_s=30)
    for n in range(10):
        await parts.service.handle(approval(f"acc-{n}"))
    await parts.service.flush()
    assert len(sender.calls) == 3  # then the circuit opened: the others were not tried
    assert parts.service.breaker.state is BreakerState.OPEN
    assert len(parts.retries.items) == 10
    held = [item for _, item in parts.retries.items.values() if item.attempts == 0]
    assert len(held) == 7  # held back by the breaker: no attempt spent
    # Still open a little later: nothing is called.
    parts.wall.advance(5)
    await parts.service.retry_due()
    await parts.service.drain_retries()
    assert len(sender.calls) == 3
    # The provider recovers; the half-open probe succeeds and the rest follow.
    down[0] = Accepted("SM1")
    await parts.settle()
    assert len(sender.calls) == 13
    assert parts.service.breaker.state is BreakerState.CLOSED
    assert deliveries(parts.publisher) == [(DeliveryStatus.ACCEPTED, None)] * 10


async def test_destinations_answered_429_never_open_the_circuit() -> None:
    limited = [Unavailable("rate_limited", "429", retry_after_s=1.0)]
    sender = FakeSender(Accepted("SM1"), by_destination={BAD: limited})
    parts = rig(sender)
    parts.service.breaker = CircuitBreaker(window=3, min_calls=3, failure_ratio=1.0, open_s=30)
    for n in range(5):
        await parts.service.handle(approval(f"acc-{n}", destination=BAD))
    await parts.settle()
    assert parts.service.breaker.state is BreakerState.CLOSED
    assert deliveries(parts.publisher) == [(DeliveryStatus.FAILED, "retry_budget_spent")] * 5
