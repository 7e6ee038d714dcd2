"""The gate's Redis store on a real Redis: states and watermarks saved together, or not at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.domain.state import AccountState
from dunning_gate.ports import WatermarkMoved
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(stack: None, prefix: str) -> AsyncIterator[RedisStateStore]:
    client = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")
    yield RedisStateStore(client, prefix=prefix)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_states_and_watermarks_are_read_back_together(store: RedisStateStore) -> None:
    states, marks = await store.load(["A1"], [0, 1])
    assert states["A1"] == AccountState(account_id="A1")
    assert marks == {0: None, 1: None}

    saved = AccountState(account_id="A1", cease_requested=True)
    await store.save([saved], {0: '{"accounts":3}'}, marks)
    states, marks = await store.load(["A1", "A2"], [0, 1])
    assert states["A1"] == saved
    assert states["A2"] == AccountState(account_id="A2")
    assert marks == {0: b'{"accounts":3}', 1: None}

    # The next batch saves against what it loaded.
    await store.save([], {0: '{"accounts":5}', 1: "{}"}, marks)
    _, marks = await store.load([], [0, 1])
    assert marks == {0: b'{"accounts":5}', 1: b"{}"}


async def test_nothing_is_written_when_a_watermark_moved_since_the_load(
    store: RedisStateStore,
) -> None:
    await store.save([AccountState(account_id="A1")], {0: '{"accounts":3}', 1: "{}"}, {})
    _, loaded = await store.load([], [0, 1])
    # Redis goes back to an older copy between this batch's read and its write.
    await store.redis.set(f"{store.prefix}applied:1", '{"accounts":1}')

    with pytest.raises(WatermarkMoved) as moved:
        await store.save(
            [AccountState(account_id="A1", cease_requested=True)],
            {0: '{"accounts":9}', 1: '{"accounts":9}'},
            loaded,
        )
    assert moved.value.now == {1: b'{"accounts":1}'}
    states, marks = await store.load(["A1"], [0, 1])
    assert states["A1"].cease_requested is False
    assert marks == {0: b'{"accounts":3}', 1: b'{"accounts":1}'}


async def test_a_watermark_that_appeared_since_the_load_also_counts_as_moved(
    store: RedisStateStore,
) -> None:
    _, loaded = await store.load([], [2])
    await store.redis.set(f"{store.prefix}applied:2", "{}")
    with pytest.raises(WatermarkMoved) as moved:
        await store.save([], {2: '{"accounts":1}'}, loaded)
    assert moved.value.now == {2: b"{}"}


async def test_a_watermark_deleted_since_the_load_is_reported_gone(
    store: RedisStateStore,
) -> None:
    await store.save([], {0: "{}", 1: "{}"}, {})
    _, loaded = await store.load([], [0, 1])
    await store.forget([0, 1])
    with pytest.raises(WatermarkMoved) as moved:
        await store.save([], {0: '{"accounts":1}', 1: '{"accounts":1}'}, loaded)
    assert moved.value.now == {0: None, 1: None}


async def test_forget_unbuilds_partitions(store: RedisStateStore) -> None:
    await store.save([], {0: "{}", 1: "{}"}, {})
    await store.forget([1])
    _, marks = await store.load([], [0, 1])
    assert marks == {0: b"{}", 1: None}


async def test_large_batches_are_written_whole(store: RedisStateStore) -> None:
    """More states than one MSET chunk of the script."""
    states = [AccountState(account_id=f"A{n}", revision=n) for n in range(2500)]
    await store.save(states, {0: '{"planned":2500}'}, {})
    loaded, marks = await store.load((s.account_id for s in states), [0])
    assert [loaded[s.account_id].revision for s in states] == list(range(2500))
    assert marks == {0: b'{"planned":2500}'}
