"""Fixtures shared by the channel library's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.stack import KAFKA, REDIS_URL
from redis.asyncio import Redis


@pytest.fixture
async def parts(prefix: str, stack: None) -> AsyncIterator[tuple[Redis, EventProducer]]:
    """Redis and a producer for one test; its keys and its journal topic removed after."""
    redis = Redis.from_url(REDIS_URL)
    producer = EventProducer(KAFKA, "test", topic_prefix=prefix)
    await producer.start()
    yield redis, producer
    await producer.stop()
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics([f"{prefix}sms.journal"])
    except Exception:  # housekeeping only
        pass
    finally:
        await admin.close()
