"""``RedisSendSteps`` (one round trip per step) does what ``StepsOnPorts`` does on the
separate ports, and a worker built on it sends once, skips a redelivery, refuses a
suppressed destination and leaves nothing in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.adapters.redis_send_steps import Call, RedisSendSteps
from dunning_channels.domain import Accepted, account_keys
from dunning_channels.ports import InFlight, Parked, SendJournal, SendRecords, SendSteps
from dunning_channels.service.steps import StepsOnPorts
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_testkit.channels import (
    PHONE,
    FakeSender,
    MemoryRetryQueue,
    MemorySendRecords,
    approval,
    rig,
    step_of,
)
from dunning_testkit.stack import REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

KEYS = (PHONE, *account_keys("acc-1"))
SOON = time.time() + 3600  # a call armed in these tests is on the wire until then


@dataclass
class Ports:
    records: SendRecords
    inflight: InFlight | None
    journal: SendJournal | None = None


@dataclass
class Store:
    steps: SendSteps
    records: SendRecords
    inflight: InFlight


@pytest.fixture
async def redis(prefix: str, stack: None) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    keys = [k async for k in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def on_redis(
    redis: Redis,
    prefix: str,
    mark_key: str | None = None,
    restore: Callable[[], Awaitable[bool]] | None = None,
) -> Store:
    records = RedisSendRecords(redis, Channel.SMS, prefix=prefix)
    inflight = RedisRetryQueue(redis, Channel.SMS, prefix=prefix, queue="inflight")
    steps = RedisSendSteps(records, inflight, mark_key=mark_key, restore=restore)
    return Store(steps, records, inflight)


@pytest.fixture(params=["redis", "ports"])
def store(request: pytest.FixtureRequest, redis: Redis, prefix: str) -> Store:
    if request.param == "redis":
        return on_redis(redis, prefix)
    records, inflight = MemorySendRecords(), MemoryRetryQueue()
    return Store(StepsOnPorts(Ports(records, inflight)), records, inflight)


async def test_admit_reserves_once_and_puts_the_step_in_flight(store: Store) -> None:
    item = Parked(approval(), 0, 100.0)
    assert (await store.steps.admit(item, KEYS, 160.0)).admitted
    assert await store.inflight.holds(item.step_id)
    again = await store.steps.admit(item, KEYS, 170.0)
    assert (again.admitted, again.suppressed, again.taken) == (False, False, "pending")
    await store.steps.settle(item.step_id, KEYS, "SM1")
    assert not await store.inflight.holds(item.step_id)
    assert (await store.steps.admit(item, KEYS, 180.0)).taken == "SM1"


async def test_admit_reserves_nothing_for_a_suppressed_destination_or_account(
    store: Store,
) -> None:
    by_number, by_account = Parked(approval("acc-1"), 0, 100.0), Parked(approval("acc-2"), 0, 1.0)
    await store.records.suppress(PHONE)
    assert (await store.steps.admit(by_number, KEYS, 160.0)).suppressed
    await store.records.unsuppress(PHONE)
    await store.records.suppress(account_keys("acc-2")[0])
    keys = (PHONE, *account_keys("acc-2"))
    assert (await store.steps.admit(by_account, keys, 160.0)).suppressed
    for item in (by_number, by_account):
        assert not await store.inflight.holds(item.step_id)
        assert await store.records.reserve(item.step_id) is None  # nothing was reserved


async def test_arm_remembers_the_owner_and_puts_in_flight_unless_suppressed(
    store: Store,
) -> None:
    item = Parked(approval("acc-1"), 1, 100.0)
    assert not await store.steps.arm(item, KEYS, 160.0, SOON)
    assert await store.inflight.holds(item.step_id)
    assert await store.records.owners(PHONE) == {"acc-1"}
    await store.steps.settle(item.step_id, KEYS)
    assert not await store.inflight.holds(item.step_id)
    await store.records.suppress(PHONE)
    other = Parked(approval("acc-9"), 1, 100.0)
    assert await store.steps.arm(other, (PHONE, *account_keys("acc-9")), 160.0, SOON)
    assert not await store.inflight.holds(other.step_id)
    assert await store.records.owners(PHONE) == {"acc-1", "acc-9"}


async def test_a_call_is_on_the_wire_under_its_keys_from_arm_to_settle(store: Store) -> None:
    """What a suppression's acknowledgement waits for (``Fence``): the calls armed before it."""
    item = Parked(approval("acc-1"), 1, 100.0)
    now = time.time()
    assert await store.records.calling(KEYS, now) == 0
    assert not await store.steps.arm(item, KEYS, 160.0, now + 30)
    assert await store.records.calling([PHONE], now) == 1
    assert await store.records.calling([account_keys("acc-1")[0]], now) == 1
    assert await store.records.calling(["+15550009999"], now) == 0  # another number
    assert await store.records.calling([PHONE], now + 31) == 0  # its bound passed (worker died)
    await store.steps.settle(item.step_id, KEYS)
    assert await store.records.calling(KEYS, now) == 0
    # Armed after the suppression: refused, so never on the wire.
    await store.records.suppress(PHONE)
    assert await store.steps.arm(Parked(approval("acc-1"), 1, 100.0), KEYS, 160.0, now + 30)
    assert await store.records.calling(KEYS, now) == 0


async def test_steps_asked_for_together_go_as_one_pipeline_each_with_its_answer(
    redis: Redis, prefix: str
) -> None:
    store = on_redis(redis, prefix)
    assert isinstance(store.steps, RedisSendSteps)
    store.steps._settle.sha = "0" * 40  # a script Redis does not know: loaded, then called
    sizes: list[int] = []
    execute = store.steps._batches._execute

    async def counted(batch: list[Call]) -> None:
        sizes.append(len(batch))
        await execute(batch)

    store.steps._batches._execute = counted  # type: ignore[method-assign]
    items = [Parked(approval(f"acc-{n}"), 0, 100.0) for n in range(20)]
    await store.steps.admit(items[0], KEYS, 160.0)
    answers = await asyncio.gather(*(store.steps.admit(i, KEYS, 160.0) for i in items))
    assert [a.taken for a in answers] == ["pending"] + [None] * 19
    await asyncio.gather(
        *(store.steps.settle(i.step_id, KEYS, f"SM{n}") for n, i in enumerate(items))
    )
    assert await store.inflight.size() == 0
    assert [await store.records.reserve(i.step_id) for i in items[:3]] == ["SM0", "SM1", "SM2"]
    assert sizes == [1, 20, 20]


async def test_a_redis_that_lost_the_mark_is_restored_before_any_step(
    redis: Redis, prefix: str
) -> None:
    mark = f"{prefix}sms:retry:mark"
    restores: list[str] = []

    async def restore() -> bool:  # as the journal does: everything back, then the mark
        restores.append("restore")
        await redis.set(f"{prefix}sms:suppressed:{PHONE}", b"1")
        await redis.set(mark, b"1")
        return True

    store = on_redis(redis, prefix, mark_key=mark, restore=restore)
    item = Parked(approval(), 0, 100.0)
    assert (await store.steps.admit(item, KEYS, 160.0)).suppressed  # the STOP came back
    assert await store.steps.arm(item, KEYS, 160.0, SOON)
    assert restores == ["restore"]


async def test_a_worker_on_redis_sends_once_and_refuses_a_suppressed_number(
    redis: Redis, prefix: str
) -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)
    store = on_redis(redis, prefix)
    parts.service.steps, parts.service.records = store.steps, store.records
    parts.service.inflight = store.inflight
    sent = approval("acc-1")
    await parts.service.handle(sent)
    await parts.service.handle(approval("acc-1", event_id="redelivered"))
    await store.records.suppress("+14155550199")
    await parts.service.handle(approval("acc-2", destination="+14155550199"))
    await parts.service.flush()
    assert len(sender.calls) == 1
    assert await store.inflight.size() == 0
    assert await store.records.reserve(step_of(sent)) == "SM1"
    assert await store.records.owners(PHONE) == {"acc-1"}
    assert sorted(
        (e.status, e.error_code) for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)
    ) == [(DeliveryStatus.ACCEPTED, None), (DeliveryStatus.REFUSED, "suppressed")]
