"""``SendRecords`` in Redis (append-only file on): shared by every worker replica."""

from __future__ import annotations

from collections.abc import Sequence

from dunning_core.contracts.common import Channel
from redis.asyncio import Redis

from dunning_channels.domain import PENDING

KEEP_S = 90 * 24 * 3600


class RedisSendRecords:
    """Reservations, recipients and suppressions of one channel, under ``<prefix><channel>:``."""

    def __init__(self, redis: Redis, channel: Channel, prefix: str = "") -> None:
        self.redis = redis
        self.ns = f"{prefix}{channel.value}:"

    async def reserve(self, step_id: str) -> str | None:
        key = f"{self.ns}step:{step_id}"
        if await self.redis.set(key, PENDING, nx=True, ex=KEEP_S):
            return None
        current = await self.redis.get(key)
        return current.decode() if isinstance(current, bytes) else str(current)

    async def record(self, step_id: str, provider_message_id: str) -> None:
        await self.redis.set(f"{self.ns}step:{step_id}", provider_message_id, ex=KEEP_S)

    async def release(self, step_id: str) -> None:
        await self.redis.delete(f"{self.ns}step:{step_id}")

    async def remember_owner(self, destination: str, account_id: str) -> None:
        await self.redis.sadd(f"{self.ns}owner:{destination.lower()}", account_id)

    async def owners(self, destination: str) -> set[str]:
        members = await self.redis.smembers(f"{self.ns}owner:{destination.lower()}")
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def suppress(self, destination: str) -> None:
        await self.redis.set(f"{self.ns}suppressed:{destination.lower()}", b"1")

    async def unsuppress(self, destination: str) -> None:
        await self.redis.delete(f"{self.ns}suppressed:{destination.lower()}")

    async def any_suppressed(self, keys: Sequence[str]) -> bool:
        names = [f"{self.ns}suppressed:{key.lower()}" for key in keys]
        return bool(names) and bool(await self.redis.exists(*names))

    async def is_suppressed(self, destination: str) -> bool:
        return bool(await self.redis.exists(f"{self.ns}suppressed:{destination.lower()}"))

    def call_keys(self, keys: Sequence[str]) -> list[str]:
        """The sorted sets of calls on the wire under each suppression key (score: until)."""
        return [f"{self.ns}calling:{key.lower()}" for key in keys]

    async def begin_call(self, step_id: str, keys: Sequence[str], until: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for name in self.call_keys(keys):
                pipe.zadd(name, {step_id: until})
                pipe.expireat(name, int(until) + 1)
            await pipe.execute()

    async def end_call(self, step_id: str, keys: Sequence[str]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for name in self.call_keys(keys):
                pipe.zrem(name, step_id)
            await pipe.execute()

    async def calling(self, keys: Sequence[str], now: float) -> int:
        names = self.call_keys(keys)
        if not names:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.zcount(name, f"({now!r}", "+inf")  # a call past its until has ended
            counts = await pipe.execute()
        return sum(int(c) for c in counts)
