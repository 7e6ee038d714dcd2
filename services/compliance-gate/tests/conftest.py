"""Fixtures of the gate's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dunning_testkit.gate import gate_redis
from redis.asyncio import Redis


@pytest.fixture
async def redis(stack: None) -> AsyncIterator[Redis]:
    client = gate_redis()
    yield client
    await client.aclose()
