"""``RetryQueue`` in Redis: parked approvals by due time, leased to one replica at a time.

A sorted set holds step ids by due time (wall seconds), a hash holds each parked
approval as the Kafka record it arrived as (so the dead-letter topic gets it unchanged).
``claim`` moves a due entry's score to the end of its lease in one script, so two
replicas never take the same entry, and one that dies gives it back when the lease ends.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import decode, encode
from redis.asyncio import Redis

from dunning_channels.ports import Parked

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #due == 0 then return false end
redis.call('ZADD', KEYS[1], ARGV[2], due[1])
return redis.call('HGET', KEYS[2], due[1])
"""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def dump(item: Parked) -> bytes:
    key, value, headers = encode(item.envelope)
    return orjson.dumps(
        {
            "key": _b64(key),
            "value": _b64(value),
            "headers": [[name, _b64(raw)] for name, raw in headers],
            "attempts": item.attempts,
            "first_attempt_at": item.first_attempt_at,
            "last_error": item.last_error,
            "paced": item.paced,
        }
    )


def load(raw: bytes) -> Parked:
    data: dict[str, Any] = orjson.loads(raw)
    envelope = decode(
        base64.b64decode(data["key"]),
        base64.b64decode(data["value"]),
        [(name, base64.b64decode(value)) for name, value in data["headers"]],
        where="parked retry",
    )
    return Parked(
        envelope,
        data["attempts"],
        data["first_attempt_at"],
        data["last_error"],
        bool(data.get("paced", False)),
    )


class RedisRetryQueue:
    """Also the in-flight steps (``queue="inflight"``): due when they are to be reconciled."""

    def __init__(
        self, redis: Redis, channel: Channel, prefix: str = "", queue: str = "retry"
    ) -> None:
        self.redis = redis
        self.due_key = f"{prefix}{channel.value}:{queue}:due"
        self.items_key = f"{prefix}{channel.value}:{queue}:items"

    async def holds(self, step_id: str) -> bool:
        return bool(await self.redis.hexists(self.items_key, step_id))

    async def park(self, item: Parked, due_at: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.items_key, item.step_id, dump(item))
            pipe.zadd(self.due_key, {item.step_id: due_at})
            await pipe.execute()

    async def claim(self, now: float, lease_s: float) -> Parked | None:
        raw = await self.redis.eval(
            _CLAIM, 2, self.due_key, self.items_key, repr(now), repr(now + lease_s)
        )
        if not raw:
            return None
        return load(raw if isinstance(raw, bytes) else str(raw).encode())

    async def done(self, step_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.due_key, step_id)
            pipe.hdel(self.items_key, step_id)
            await pipe.execute()

    async def size(self) -> int:
        return int(await self.redis.zcard(self.due_key))
