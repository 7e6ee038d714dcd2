"""Two workers share one send rate through Redis: together they keep to it."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from dunning_channels.adapters.redis_pacer import RedisPacer
from dunning_channels.domain import Accepted, Rate
from dunning_channels.ports import Pacing
from dunning_testkit.channels import FakeSender, approval, rig
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


async def test_two_workers_sharing_a_sender_rate_keep_to_it_together(stack: None) -> None:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    calls: list[float] = []
    try:
        workers = []
        for _ in range(2):
            sender = FakeSender(Accepted("SM1"), on_send=lambda: calls.append(time.monotonic()))
            pacing = Pacing(RedisPacer(redis, prefix), sender=Rate(10.0), inline_wait_s=10.0)
            parts = rig(sender, pacing=pacing)
            parts.service.wall = time.time  # real time: the turns are slept inline
            workers.append(parts)
        started = time.monotonic()

        async def run(index: int) -> None:
            service = workers[index].service
            for n in range(10):
                await service.handle(approval(f"w{index}-{n}"))
            await service.flush()

        await asyncio.gather(run(0), run(1))
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    assert len(calls) == 20
    # 20 sends at 10 a second, shared: the k-th goes no sooner than k/10 s after the start
    # (a late wake-up may bring two closer; none is early).
    for k, at in enumerate(sorted(calls)):
        assert at - started >= k * 0.1 - 0.01, (k, at - started)
