"""The one way a service opens its Redis.

A Redis restart closes every pooled connection; redis-py keeps them in its pool and each
dead one fails the first command that draws it, up to a minute after the restart. This
client reopens a dead connection and tries the command again (a few times, with jittered
backoff), so a restart costs a short wait instead of a failed send or batch.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff


def redis_client(url: str) -> Redis:
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3)
    return Redis.from_url(url, retry=retry)
