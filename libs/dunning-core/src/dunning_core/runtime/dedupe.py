"""Remembering which ``ce_id`` values a consumer group has already handled."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

from redis.asyncio import Redis


class DedupeStore(Protocol):
    async def unseen(self, ids: list[str]) -> set[str]: ...

    async def mark(self, ids: Iterable[str]) -> None: ...


class MemoryDedupe:
    """A bounded in-process memory: catches redelivery within one process's life."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def unseen(self, ids: list[str]) -> set[str]:
        return {i for i in ids if i not in self._seen}

    async def mark(self, ids: Iterable[str]) -> None:
        for i in ids:
            self._seen[i] = None
            self._seen.move_to_end(i)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)


class RedisDedupe:
    """Handled ids in Redis with a time-to-live, shared by every replica of a group."""

    def __init__(self, redis: Redis, namespace: str, ttl_seconds: int = 14 * 24 * 3600) -> None:
        self.redis = redis
        self.prefix = f"dedupe:{namespace}:"
        self.ttl = ttl_seconds

    async def unseen(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.exists(self.prefix + i)
            found = await pipe.execute()
        return {i for i, hit in zip(ids, found, strict=True) if not hit}

    async def mark(self, ids: Iterable[str]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.set(self.prefix + i, b"1", ex=self.ttl)
            await pipe.execute()
