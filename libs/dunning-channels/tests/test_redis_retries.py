"""``RedisRetryQueue`` on the real Redis: parked approvals survive as their Kafka record,
fall due in time order, and are leased to one claimer at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.ports import Parked
from dunning_core.contracts.common import Channel
from dunning_testkit.channels import approval
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def queue(stack: None) -> AsyncIterator[RedisRetryQueue]:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield RedisRetryQueue(redis, Channel.SMS, prefix=prefix)
    await redis.delete(f"{prefix}sms:retry:due", f"{prefix}sms:retry:items")
    await redis.aclose()


async def test_parked_items_come_back_whole_when_due_and_once_per_lease(
    queue: RedisRetryQueue,
) -> None:
    early = Parked(approval("acc-1", send_by=None), 2, 100.0, "rate_limited: 429")
    late = Parked(approval("acc-2"), 1, 100.0, "server_error: 500")
    await queue.park(late, due_at=200.0)
    await queue.park(early, due_at=150.0)
    assert await queue.size() == 2
    assert await queue.claim(now=149.0, lease_s=60) is None
    claimed = await queue.claim(now=160.0, lease_s=60)
    assert claimed is not None
    assert (claimed.step_id, claimed.attempts, claimed.first_attempt_at, claimed.last_error) == (
        early.step_id,
        2,
        100.0,
        "rate_limited: 429",
    )
    assert claimed.envelope.id == early.envelope.id
    assert claimed.envelope.data == early.envelope.data
    assert claimed.envelope.traceparent == early.envelope.traceparent
    # leased: another claimer does not get it before the lease ends (nor the late one)
    assert await queue.claim(now=170.0, lease_s=60) is None
    other = await queue.claim(now=221.0, lease_s=60)
    assert other is not None
    assert other.step_id == late.step_id  # due at 200, before the lease's end at 220
    await queue.done(late.step_id)
    again = await queue.claim(now=221.0, lease_s=60)
    assert again is not None
    assert again.step_id == early.step_id  # due again at 220: as if its claimer died
    await queue.done(early.step_id)
    assert await queue.size() == 0


async def test_the_in_flight_steps_are_a_queue_of_their_own(stack: None) -> None:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    retries = RedisRetryQueue(redis, Channel.SMS, prefix=prefix)
    inflight = RedisRetryQueue(redis, Channel.SMS, prefix=prefix, queue="inflight")
    try:
        item = Parked(approval("acc-9"), 0, 100.0)
        await inflight.park(item, due_at=160.0)
        assert await inflight.holds(item.step_id)
        assert not await retries.holds(item.step_id)
        assert await retries.claim(now=1_000.0, lease_s=60) is None
        claimed = await inflight.claim(now=1_000.0, lease_s=60)
        assert claimed is not None
        assert claimed.step_id == item.step_id
        await inflight.done(item.step_id)
        assert not await inflight.holds(item.step_id)
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
