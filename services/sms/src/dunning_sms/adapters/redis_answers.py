"""What the sms ingress remembers in Redis: which inbound texts were answered already
(``SET NX``, one key per MessageSid), and the language each number is written to (set by
the worker when a step is accepted, read when that number texts STOP, START or HELP)."""

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


class RedisLocales:
    def __init__(self, redis: Redis, *, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = f"{prefix}sms:locale:"

    async def remember(self, number: str, locale: str) -> None:
        await self._redis.set(self._prefix + number, locale, ex=90 * 24 * 3600)

    async def locale_of(self, number: str) -> str | None:
        found = await self._redis.get(self._prefix + number)
        if found is None:
            return None
        return found.decode() if isinstance(found, bytes) else str(found)
