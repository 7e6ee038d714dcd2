"""The signed-in sessions in Redis: one string per session, expiring with it (``PXAT``).

Keys read ``{prefix}ops:session:<sha256 of the session id>``; the values are sealed by
``dunning_ops.sessions`` (no API key or session id in clear). Every replica of the dashboard
given the same Redis and signing key sees the same sessions.
"""

from __future__ import annotations

from redis.asyncio import Redis


class RedisSessionStore:
    def __init__(self, redis: Redis, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = f"{prefix}ops:session:"

    async def put(self, key: str, value: bytes, expires_at: float) -> None:
        await self._redis.set(self._prefix + key, value, pxat=int(expires_at * 1000))

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
