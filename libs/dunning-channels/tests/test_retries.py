"""Retries of ``SendApprovals`` (parked, bounded per step) and the provider's circuit
breaker, with fakes of our own ports and a fake wall clock."""

from __future__ import annotations

import asyncio

import pytest
import redis.exceptions
from dunning_channels.domain import (
    Accepted,
    BreakerState,
    CircuitBreaker,
    NotFound,
    RetryPolicy,
    Unavailable,
)
from dunning_channels.ports import Parked
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated, StepApproved
from dunning_core.runtime.errors import TransientError
from dunning_testkit.channels import (
    PHONE,
    Answer,
    FakeSender,
    MemoryJournal,
    MemoryRetryQueue,
    MemorySendRecords,
    approval,
    rig,
    step_of,
)

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
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)] * 10
    bad = approval("acc-bad", destination=BAD).data
    assert isinstance(bad, StepApproved)
    assert list(parts.retries.items) == [bad.step.step_id]


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
    step_id = step_of(envelope)
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
    assert parts.publisher.deliveries() == [(DeliveryStatus.FAILED, "retry_budget_spent")]
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
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
    assert parts.retries.items == {}


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_s=1.0, maximum_s=8.0)
    assert [policy.backoff(n, rand=1.0) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    assert [policy.backoff(n, rand=0.0) for n in range(1, 5)] == [0.5, 1, 2, 4]


# --- the provider's circuit breaker ----------------------------------------------------------


async def test_a_provider_that_is_down_is_not_called_while_its_circuit_is_open() -> None:
    down: list[Answer] = [Unavailable("server_error", "503")]
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
    # mypy keeps the state narrowed by the assert above across settle()
    assert parts.service.breaker.state is BreakerState.CLOSED  # type: ignore[comparison-overlap]
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)] * 10


async def test_destinations_answered_429_never_open_the_circuit() -> None:
    limited: list[Answer] = [Unavailable("rate_limited", "429", retry_after_s=1.0)]
    sender = FakeSender(Accepted("SM1"), by_destination={BAD: limited})
    parts = rig(sender)
    parts.service.breaker = CircuitBreaker(window=3, min_calls=3, failure_ratio=1.0, open_s=30)
    for n in range(5):
        await parts.service.handle(approval(f"acc-{n}", destination=BAD))
    await parts.settle()
    assert parts.service.breaker.state is BreakerState.CLOSED
    assert parts.publisher.deliveries() == [(DeliveryStatus.FAILED, "retry_budget_spent")] * 5


async def test_a_retry_that_comes_back_after_its_step_was_sent_is_dropped() -> None:
    # A replica sent it, then died before removing it from the queue: its lease ran out.
    sender = FakeSender(Unavailable("server_error", "500"), Accepted("SM1"))
    parts = rig(sender)
    envelope = approval()
    await parts.service.handle(envelope)
    await parts.service.flush()
    await parts.records.record(step_of(envelope), "SM-sent-by-another")
    await parts.settle()
    assert len(sender.calls) == 1
    assert parts.retries.items == {}
    assert parts.publisher.events() == []


async def test_the_intent_to_send_is_journalled_before_the_provider_is_called() -> None:
    journal = MemoryJournal()
    seen_at_call: list[list[str]] = []
    sender = FakeSender(
        Accepted("SM1"), on_send=lambda: seen_at_call.append(sorted(journal.intents))
    )
    parts = rig(sender)
    parts.service.journal = journal
    envelope = approval()
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert seen_at_call == [[step_of(envelope)]]


async def test_a_parked_retry_whose_number_opted_out_since_is_refused_not_sent() -> None:
    sender = FakeSender(Unavailable("rate_limited", "429", retry_after_s=5.0), Accepted("SM1"))
    parts = rig(sender)
    await parts.service.handle(approval())
    await parts.service.flush()
    await parts.records.suppress(PHONE)  # the STOP arrives while the step waits
    await parts.settle()
    assert len(sender.calls) == 1
    assert parts.publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]
    assert parts.retries.items == {}


async def test_a_redis_loss_between_the_intent_and_the_call_leaves_the_step_to_be_sent() -> None:
    # The chaos run's "approved, never sent": Redis went away after the intent was
    # journalled, before the call; the journal's restore then held the step as tried.
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)

    # The journal's intents, and Redis's life seen through its restore.
    class Journal(MemoryJournal):
        redis_down, redis_flushed, written = False, False, 0

        async def intend(self, item: Parked, reconcile_at: float) -> None:
            await super().intend(item, reconcile_at)
            self.written += 1
            self.redis_down = self.written == 1  # Redis dies right after the first intent

        async def restore_if_lost(self) -> bool:
            if self.redis_down:
                raise redis.exceptions.ConnectionError("Connection closed by server.")
            if not self.redis_flushed:
                return False
            self.redis_flushed = False
            parts.records.steps = dict.fromkeys(self.intents, "pending")  # each one tried
            return True

    journal = Journal()
    parts.service.journal = journal
    envelope = approval()
    await parts.service.handle(envelope)
    with pytest.raises(TransientError):
        await parts.service.flush()  # the batch comes back
    journal.redis_down, journal.redis_flushed = False, True  # back, empty (FLUSHALL)
    await parts.service.handle(envelope)  # the redelivered approval
    await parts.service.flush()
    assert len(sender.calls) == 1  # old code: none, skipped as already sent
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_step_whose_release_failed_too_is_reconciled_and_sent_not_left_reserved() -> None:
    # The chaos run's "approved, never sent" after a Redis restart: the pool's dead
    # connections failed a first try before the call, then its release; the step stayed
    # reserved, its in-flight entry was cleared, and every redelivery skipped it.
    class DeadConnections(MemorySendRecords):
        def __init__(self) -> None:
            super().__init__()
            self.broken = {"remember_owner", "release"}  # each fails once

        def _draw(self, what: str) -> None:
            if what in self.broken:
                self.broken.discard(what)
                raise redis.exceptions.ConnectionError("Connection closed by server.")

        async def remember_owner(self, destination: str, account_id: str) -> None:
            self._draw("remember_owner")
            await super().remember_owner(destination, account_id)

        async def release(self, step_id: str) -> None:
            self._draw("release")
            await super().release(step_id)

    sender = FakeSender(Accepted("SM1"))
    sender.found = [NotFound()]
    parts = rig(sender, DeadConnections())
    parts.service.inflight = MemoryRetryQueue()
    envelope = approval()
    await parts.service.handle(envelope)
    with pytest.raises(TransientError):
        await parts.service.flush()
    await parts.service.handle(envelope)  # redelivered: reserved, so skipped
    await parts.service.flush()
    # Reserved before its call: the sweeper's once the send's pre-call allowance is over too.
    parts.wall.advance(parts.service.reconcile.settle_s + parts.service.pre_call_s + 1)
    assert await parts.service.reconcile_due() == 1  # old code: 0, nothing in flight
    await parts.settle()
    assert len(sender.calls) == 1
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]
