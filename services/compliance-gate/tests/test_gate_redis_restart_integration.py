"""The gate's Redis after a restart: every pooled connection the restart closed is opened
again for the next batch, not the failure of that batch (on the real Redis; only the gate's
own connection is closed, as a restart would close it)."""

from __future__ import annotations

import pytest
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.bootstrap import build
from dunning_gate.config import GateSettings
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


async def test_the_gates_state_store_outlives_a_closed_connection(stack: None) -> None:
    app = build(GateSettings(redis_url=REDIS_URL, topic_prefix="redis-restart."))
    store = app.state.pipeline.store
    assert isinstance(store, RedisStateStore)
    admin = Redis.from_url(REDIS_URL)
    try:
        assert await store.redis.ping()  # one connection, back in the pool
        connection_id = await store.redis.client_id()
        assert await admin.client_kill_filter(_id=str(connection_id)) == 1
        # Before: redis.exceptions.ConnectionError "Connection closed by server."
        states, _ = await store.load(["acct-1"], {})
        assert len(states) == 1
    finally:
        await store.redis.aclose()
        await admin.aclose()
