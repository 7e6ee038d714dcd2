"""Parked retries survive the loss of Redis: the Kafka journal puts them back, reserved."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.errors import LeaderNotAvailableError
from dunning_channels.adapters.journaled_records import JournaledSendRecords
from dunning_channels.adapters.kafka_journal import (
    JournaledInFlight,
    JournaledRetryQueue,
    KafkaSendJournal,
)
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.ports import Parked, RetryQueue
from dunning_core.contracts.common import Channel
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.channels import approval
from dunning_testkit.stack import KAFKA
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


def journaled(
    prefix: str,
    redis: Redis,
    producer: EventProducer,
    journal: KafkaSendJournal | None = None,
    **options: Any,
) -> JournaledRetryQueue:
    """The SMS worker's retry queue, journalled to Kafka through ``producer`` (or to
    ``journal``), with the queue's other ``options``."""
    return JournaledRetryQueue(
        RedisRetryQueue(redis, Channel.SMS, prefix=prefix),
        journal or KafkaSendJournal(KAFKA, producer, f"{prefix}sms.journal"),
        records_of(prefix, redis),
        redis,
        mark_key=f"{prefix}sms:retry:mark",
        **options,
    )


def records_of(prefix: str, redis: Redis) -> RedisSendRecords:
    """The SMS worker's send records in Redis (what a redelivered approval consults)."""
    return RedisSendRecords(redis, Channel.SMS, prefix=prefix)


@pytest.fixture
async def queue(prefix: str, parts: tuple[Redis, EventProducer]) -> JournaledRetryQueue:
    """The worker's journalled retry queue, started."""
    redis, producer = parts
    started = journaled(prefix, redis, producer)
    await started.start()
    return started


async def forget(prefix: str, redis: Redis) -> None:
    """Redis loses every key of this worker (as FLUSHALL would)."""
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    await redis.delete(*keys)


async def test_a_flushed_redis_gets_every_parked_retry_back_and_none_done(
    prefix: str, parts: tuple[Redis, EventProducer], queue: JournaledRetryQueue
) -> None:
    redis, producer = parts
    waiting = Parked(approval("acc-1"), 2, 100.0, "server_error: 500")
    finished = Parked(approval("acc-2"), 1, 100.0, "rate_limited: 429")
    await queue.park(waiting, due_at=150.0)
    await queue.park(finished, due_at=160.0)
    await queue.done(finished.step_id)
    await forget(prefix, redis)
    restarted = journaled(prefix, redis, producer)
    claimed = await restarted.claim(now=1_000.0, lease_s=60)
    assert claimed is not None
    assert (claimed.step_id, claimed.attempts, claimed.last_error) == (
        waiting.step_id,
        2,
        "server_error: 500",
    )
    assert await restarted.claim(now=1_000.0, lease_s=60) is None  # the done one stays done
    assert restarted.restored == 1
    records = records_of(prefix, redis)
    assert await records.reserve(waiting.step_id) == "pending"  # never sent twice


async def test_a_flushed_redis_gets_back_the_reservation_and_owner_of_every_step_tried(
    prefix: str, parts: tuple[Redis, EventProducer], queue: JournaledRetryQueue
) -> None:
    redis, producer = parts
    tried = Parked(approval("acc-3", destination="+14155550123"), 0, 100.0)
    sent = tried.step_id
    await queue.intend(tried, 160.0)  # as before the provider call
    await forget(prefix, redis)
    restarted = journaled(prefix, redis, producer)
    assert await restarted.claim(now=1_000.0, lease_s=60) is None
    records = records_of(prefix, redis)
    # A redelivered approval of that step now finds it reserved: a duplicate, not resent;
    # and a reply from the number finds its account.
    assert await records.reserve(sent) == "pending"
    assert await records.owners("+14155550123") == {"acc-3"}


async def test_a_flushed_redis_gets_back_the_suppressions_and_not_the_lifted_ones(
    prefix: str, parts: tuple[Redis, EventProducer], queue: JournaledRetryQueue
) -> None:
    redis, producer = parts
    records = JournaledSendRecords(records_of(prefix, redis), queue.journal)
    await records.suppress("+14155550100")  # STOP
    await records.suppress("+14155550111")  # STOP, then START
    await records.unsuppress("+14155550111")
    await forget(prefix, redis)
    assert await journaled(prefix, redis, producer).claim(now=1_000.0, lease_s=60) is None
    assert await records.is_suppressed("+14155550100")
    assert not await records.is_suppressed("+14155550111")


async def lose_redis(prefix: str, redis: Redis, producer: EventProducer) -> None:
    """Once the journal has every write queued, Redis loses all of this worker's keys."""
    await producer.flush()
    await forget(prefix, redis)


async def assert_only_claim(queue: RetryQueue, step_id: str) -> None:
    """The queue gives back ``step_id``, then nothing more."""
    claimed = await queue.claim(now=1_000.0, lease_s=60)
    assert claimed is not None
    assert claimed.step_id == step_id
    assert await queue.claim(now=1_000.0, lease_s=60) is None


def with_in_flight(
    prefix: str, redis: Redis, producer: EventProducer
) -> tuple[JournaledRetryQueue, RedisRetryQueue]:
    """A journalled retry queue that restores the steps in flight too, and their queue."""
    inflight = RedisRetryQueue(redis, Channel.SMS, prefix=prefix, queue="inflight")
    return journaled(prefix, redis, producer, inflight=inflight), inflight


async def test_a_flushed_redis_gets_back_the_steps_in_flight_to_reconcile(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, producer = parts
    queue, inflight_queue = with_in_flight(prefix, redis, producer)
    await queue.start()
    inflight = JournaledInFlight(inflight_queue, queue.journal)
    unknown = Parked(approval("acc-5"), 0, 100.0)  # its answer was lost
    recorded = Parked(approval("acc-6"), 0, 100.0)
    await inflight.park(unknown, due_at=160.0)
    await inflight.park(recorded, due_at=160.0)
    await inflight.done(recorded.step_id)
    await lose_redis(prefix, redis, producer)
    assert await queue.restore_if_lost()
    await assert_only_claim(inflight, unknown.step_id)
    records = records_of(prefix, redis)
    assert await records.reserve(unknown.step_id) == "pending"  # reconciled, not resent


async def test_a_flushed_redis_gets_back_in_flight_only_the_steps_not_settled(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    # The send intent carries the step in flight: a withdrawn one gives back nothing.
    redis, producer = parts
    queue, inflight = with_in_flight(prefix, redis, producer)
    journal, records = queue.journal, records_of(prefix, redis)
    await queue.start()
    unknown = Parked(approval("acc-1", destination="+14155550101"), 0, 100.0)
    settled = Parked(approval("acc-2", destination="+14155550102"), 0, 100.0)
    withdrawn = Parked(approval("acc-3", destination="+14155550103"), 0, 100.0)
    for item in (unknown, settled, withdrawn):
        await queue.intend(item, 160.0)
    await queue.settled(settled)
    await queue.abandon(withdrawn.step_id)
    # an in-flight record of the former kind, settled since by an intent of the new
    await journal.in_flight(settled.step_id, settled, 150.0)
    await queue.intend(settled, 170.0)
    await queue.settled(settled)
    await lose_redis(prefix, redis, producer)
    assert await queue.restore_if_lost()
    await assert_only_claim(inflight, unknown.step_id)
    assert await records.reserve(unknown.step_id) == "pending"  # reconciled, not resent
    assert await records.reserve(settled.step_id) == "pending"  # a duplicate, not resent
    assert await records.reserve(withdrawn.step_id) is None  # never sent: free
    assert await records.owners("+14155550102") == {"acc-2"}
    assert await records.owners("+14155550103") == set()


class FlakyJournal(KafkaSendJournal):
    """A journal whose first ``failures`` writes fail, as during a broker's leader election."""

    def __init__(self, prefix: str, producer: EventProducer, failures: int) -> None:
        super().__init__(KAFKA, producer, f"{prefix}sms.journal")
        self.failures = failures
        self.writes = 0

    async def write(self, step_id: str, item: Parked | None, due_at: float = 0.0) -> None:
        self.writes += 1
        if self.failures > 0:
            self.failures -= 1
            raise LeaderNotAvailableError("leader moving")
        await super().write(step_id, item, due_at)


def flaky_queue(
    prefix: str, parts: tuple[Redis, EventProducer], failures: int
) -> tuple[FlakyJournal, JournaledRetryQueue, RedisRetryQueue]:
    """A retry queue journalled through a :class:`FlakyJournal`, and its queue in Redis."""
    redis, producer = parts
    journal = FlakyJournal(prefix, producer, failures)
    queue = journaled(prefix, redis, producer, journal=journal, journal_pauses_s=(0.0, 0.0))
    return journal, queue, queue.queue


async def test_a_claimed_retry_parked_again_survives_a_journal_write_that_fails_once(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    # Chaos stp_2443cef3-...: rate limited twice, then park -> journal.write ->
    # LeaderNotAvailableError during a broker kill: the claimed retry was never seen again.
    journal, journaled_queue, queue = flaky_queue(prefix, parts, failures=0)
    await journaled_queue.start()
    item = Parked(approval("acc-7"), 1, 100.0, "rate_limited: 429")
    await journaled_queue.park(item, due_at=150.0)
    claimed = await journaled_queue.claim(now=200.0, lease_s=10_000)  # leased far ahead
    assert claimed is not None
    journal.failures = 1
    await journaled_queue.park(claimed, due_at=260.0)  # old code: raised, item left leased
    again = await queue.claim(now=300.0, lease_s=60)
    assert again is not None  # due again at 260, not at the end of the lease
    assert again.step_id == item.step_id
    assert journal.writes == 3  # the failed write was tried again


async def test_a_journal_that_keeps_failing_leaves_the_retry_in_redis(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, _ = parts
    journal, journaled_queue, queue = flaky_queue(prefix, parts, failures=10)
    await redis.set(f"{prefix}sms:retry:mark", b"1")
    item = Parked(approval("acc-8"), 1, 100.0, "rate_limited: 429")
    await journaled_queue.park(item, due_at=150.0)  # does not raise
    claimed = await queue.claim(now=200.0, lease_s=60)
    assert claimed is not None
    assert claimed.step_id == item.step_id
    assert journal.writes == 3


async def test_a_flushed_redis_gets_back_each_settled_step_with_its_recorded_outcome(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    # chaos1796619349: a text the provider rejected (21211, no message made) came back
    # from the journal merely reserved; its approval, redelivered, was reconciled ("not at
    # the provider"), tried again and refused: two final statuses for one step.
    redis, producer = parts
    queue, inflight = with_in_flight(prefix, redis, producer)
    records = records_of(prefix, redis)
    await queue.start()
    rejected = Parked(approval("acc-1", destination="+14155550101"), 0, 100.0)
    sent = Parked(approval("acc-2", destination="+14155550102"), 0, 100.0)
    for item, outcome in ((rejected, "rejected:21211"), (sent, "SM1")):
        await queue.intend(item, 160.0)
        await (await queue.settled(item, outcome))  # acknowledged by the broker
    await lose_redis(prefix, redis, producer)
    assert await queue.restore_if_lost()
    assert await records.reserve(rejected.step_id) == "rejected:21211"  # old code: pending
    assert await records.reserve(sent.step_id) == "SM1"
    assert await inflight.claim(now=1_000.0, lease_s=60) is None  # nothing to reconcile
