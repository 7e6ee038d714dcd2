"""``Pacer`` in Redis: the buckets' arrival times shared by every worker replica.

A turn is reserved in one optimistic transaction (WATCH the buckets, compute with
``domain.pacing.next_turn``, write them back; again if another replica wrote first).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import WatchError

from dunning_channels.domain.pacing import Rate, next_turn


class RedisPacer:
    def __init__(self, redis: Redis, prefix: str = "") -> None:
        self.redis = redis
        self.prefix = f"{prefix}pace:"

    async def reserve(self, buckets: Sequence[tuple[str, Rate]], now: float) -> float:
        keys = [self.prefix + name for name, _ in buckets]
        rates = [rate for _, rate in buckets]
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(*keys)
                    raw = await pipe.mget(keys)
                    tats = [None if value is None else float(value) for value in raw]
                    turn, moved = next_turn(tats, rates, now)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    for key, tat in zip(keys, moved, strict=True):
                        # kept a little past the bucket's last reserved turn
                        pipe.set(key, repr(tat), px=int((tat - now + 60) * 1000))
                    await pipe.execute()
                    return turn
                except WatchError:
                    continue
