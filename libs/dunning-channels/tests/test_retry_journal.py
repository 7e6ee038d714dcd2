"""Parked retries survive the loss of Redis: the Kafka journal puts them back, reserved."""

from __future__ import annotations

import pytest
from dunning_channels.adapters.kafka_journal import (
    JournaledInFlight,
    JournaledRetryQueue,
    JournaledSendRecords,
    KafkaSendJournal,
)
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.ports import Parked
from dunning_core.contracts.common import Channel
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.channels import approval
from dunning_testkit.stack import KAFKA
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


def journaled(prefix: str, redis: Redis, producer: EventProducer) -> JournaledRetryQueue:
    records = RedisSendRecords(redis, Channel.SMS, prefix=prefix)
    return JournaledRetryQueue(
        RedisRetryQueue(redis, Channel.SMS, prefix=prefix),
        KafkaSendJournal(KAFKA, producer, f"{prefix}sms.journal"),
        records,
        redis,
        mark_key=f"{prefix}sms:retry:mark",
    )


async def test_a_flushed_redis_gets_every_parked_retry_back_and_none_done(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, producer = parts
    queue = journaled(prefix, redis, producer)
    await queue.start()
    waiting = Parked(approval("acc-1"), 2, 100.0, "server_error: 500")
    finished = Parked(approval("acc-2"), 1, 100.0, "rate_limited: 429")
    await queue.park(waiting, due_at=150.0)
    await queue.park(finished, due_at=160.0)
    await queue.done(finished.step_id)
    # Redis loses everything of this worker (as FLUSHALL would).
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    await redis.delete(*keys)
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
    records = RedisSendRecords(redis, Channel.SMS, prefix=prefix)
    assert await records.reserve(waiting.step_id) == "pending"  # never sent twice


async def test_a_flushed_redis_gets_back_the_reservation_and_owner_of_every_step_tried(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, producer = parts
    queue = journaled(prefix, redis, producer)
    await queue.start()
    sent = approval("acc-3").data.step.step_id  # type: ignore[union-attr]
    await queue.intend(sent, "+14155550123", "acc-3")  # as before the provider call
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    await redis.delete(*keys)
    restarted = journaled(prefix, redis, producer)
    assert await restarted.claim(now=1_000.0, lease_s=60) is None
    records = RedisSendRecords(redis, Channel.SMS, prefix=prefix)
    # A redelivered approval of that step now finds it reserved: a duplicate, not resent;
    # and a reply from the number finds its account.
    assert await records.reserve(sent) == "pending"
    assert await records.owners("+14155550123") == {"acc-3"}


async def test_a_flushed_redis_gets_back_the_suppressions_and_not_the_lifted_ones(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, producer = parts
    queue = journaled(prefix, redis, producer)
    await queue.start()
    records = JournaledSendRecords(
        RedisSendRecords(redis, Channel.SMS, prefix=prefix), queue.journal
    )
    await records.suppress("+14155550100")  # STOP
    await records.suppress("+14155550111")  # STOP, then START
    await records.unsuppress("+14155550111")
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    await redis.delete(*keys)
    assert await journaled(prefix, redis, producer).claim(now=1_000.0, lease_s=60) is None
    assert await records.is_suppressed("+14155550100")
    assert not await records.is_suppressed("+14155550111")


async def test_a_flushed_redis_gets_back_the_steps_in_flight_to_reconcile(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, producer = parts
    inflight_queue = RedisRetryQueue(redis, Channel.SMS, prefix=prefix, queue="inflight")
    journal = KafkaSendJournal(KAFKA, producer, f"{prefix}sms.journal")
    queue = JournaledRetryQueue(
        RedisRetryQueue(redis, Channel.SMS, prefix=prefix),
        journal,
        RedisSendRecords(redis, Channel.SMS, prefix=prefix),
        redis,
        mark_key=f"{prefix}sms:retry:mark",
        inflight=inflight_queue,
    )
    await queue.start()
    inflight = JournaledInFlight(inflight_queue, journal)
    unknown = Parked(approval("acc-5"), 0, 100.0)  # its answer was lost
    recorded = Parked(approval("acc-6"), 0, 100.0)
    await inflight.park(unknown, due_at=160.0)
    await inflight.park(recorded, due_at=160.0)
    await inflight.done(recorded.step_id)
    await producer.flush()
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    await redis.delete(*keys)
    assert await queue.restore_if_lost()
    claimed = await inflight.claim(now=1_000.0, lease_s=60)
    assert claimed is not None
    assert claimed.step_id == unknown.step_id
    assert await inflight.claim(now=1_000.0, lease_s=60) is None
    records = RedisSendRecords(redis, Channel.SMS, prefix=prefix)
    assert await records.reserve(unknown.step_id) == "pending"  # reconciled, not resent
