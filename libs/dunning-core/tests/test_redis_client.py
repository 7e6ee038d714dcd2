"""The channel's Redis client after a Redis restart: a pooled connection the server closed
is opened again, not the failure of whatever command draws it (on the real Redis; only this
test's own connection is closed)."""

from __future__ import annotations

import pytest
from dunning_core.runtime.redis_client import redis_client
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


async def test_a_pooled_connection_the_server_closed_is_opened_again(stack: None) -> None:
    client = redis_client(REDIS_URL)
    admin = Redis.from_url(REDIS_URL)
    try:
        assert await client.ping()  # one connection, back in the pool
        connection_id = await client.client_id()
        # What a restart does to every pooled connection (here to this one alone).
        assert await admin.client_kill_filter(_id=str(connection_id)) == 1
        # Old code: redis.exceptions.ConnectionError "Connection closed by server."
        assert await client.ping()
    finally:
        await client.aclose()
        await admin.aclose()
