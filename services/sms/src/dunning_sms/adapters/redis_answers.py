"""Which inbound texts were answered already (Redis ``SET NX``, one key per MessageSid)."""

from __future__ import annotations

from redis.asyncio import Redis

# Twilio retries a webhook for hours at most; a week covers every redelivery.
TTL_S = 7 * 24 * 3600


class RedisAnswerLog:
    def __init__(self, redis: Redis, *, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = f"{prefix}sms:answered:"

    async def first(self, message_sid: str) -> bool:
        return bool(await self._redis.set(self._prefix + message_sid, 1, nx=True, ex=TTL_S))
