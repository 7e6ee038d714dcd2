"""A consumer loop survives its database or Redis going away: cut under a running loop
(through a TCP proxy, the shared PostgreSQL and Redis are never stopped), restored, every
event recorded once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import asyncpg
import pytest
from dunning_core.contracts.envelope import Envelope
from dunning_core.runtime.dedupe import RedisDedupe
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.faults import PostgresProxy, TcpProxy
from dunning_testkit.gate import NewYorkSms
from dunning_testkit.stack import KAFKA, REDIS_URL
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .loops import opt_outs, running, signals_loop

pytestmark = pytest.mark.integration

STREAM = NewYorkSms("R")


class Recorder:
    """Handler and dedupe on PostgreSQL through SQLAlchemy, like the ledger's: the processed
    marks are written in the flush transaction, and the dedupe lookup reads them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.pending: list[str] = []

    async def unseen(self, ids: list[str]) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT event_id FROM processed WHERE event_id = ANY(:ids)"), {"ids": ids}
            )
            return set(ids) - {r[0] for r in rows}

    async def mark(self, ids: Iterable[str]) -> None:
        return None

    async def handle(self, envelope: Envelope) -> None:
        self.pending.append(envelope.id)

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        rows = [{"id": i} for i in batch]
        async with self.engine.begin() as conn:
            await conn.execute(text("INSERT INTO recorded (event_id) VALUES (:id)"), rows)
            await conn.execute(text("INSERT INTO processed (event_id) VALUES (:id)"), rows)


@pytest.fixture
async def proxied_database(
    fresh_database: Callable[[str], Awaitable[str]],
) -> AsyncIterator[tuple[str, TcpProxy]]:
    url = urlsplit((await fresh_database("recovery")).replace("+asyncpg", ""))
    assert url.hostname is not None
    assert url.port is not None
    proxy = PostgresProxy(url.hostname, url.port)
    await proxy.start()
    direct = url._replace(scheme="postgresql").geturl()
    conn = await asyncpg.connect(direct)
    await conn.execute("CREATE TABLE recorded (event_id text NOT NULL)")
    await conn.execute("CREATE TABLE processed (event_id text PRIMARY KEY)")
    await conn.close()
    yield direct, proxy
    await proxy.stop()


async def _recorded(direct: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(direct)
    try:
        rows = await conn.fetch("SELECT event_id, count(*) AS n FROM recorded GROUP BY event_id")
    finally:
        await conn.close()
    return [(r["event_id"], r["n"]) for r in rows]


async def _until(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    for _ in range(int(seconds / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not reached in {seconds} s")


async def test_a_database_outage_under_a_running_loop_loses_and_doubles_nothing(
    topics: str, proxied_database: tuple[str, TcpProxy]
) -> None:
    direct, proxy = proxied_database
    url = urlsplit(direct)
    dsn = url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:{proxy.port}").geturl()
    # As the ledger builds its engine (pool, pre-ping).
    engine = create_async_engine(
        dsn.replace("postgresql://", "postgresql+asyncpg://"),
        pool_size=2,
        pool_pre_ping=True,
        connect_args={"timeout": 2},
    )
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    recorder = Recorder(engine)
    loop = signals_loop(topics, "recorder", recorder, producer, recorder, outage_reminder_s=1.0)
    first = opt_outs(STREAM, range(1, 51))
    second = opt_outs(STREAM, range(51, 101))
    try:
        async with running(loop) as task:
            await producer.publish(first)

            async def all_first() -> bool:
                return len(await _recorded(direct)) == 50

            await _until(all_first, 30)

            proxy.cut()
            await producer.publish(second)
            await producer.publish(first[:10])  # redelivered duplicates, for good measure
            await asyncio.sleep(4)
            assert not task.done(), task.exception() if task.done() else None
            outage = loop.health()["outage"]
            assert outage is not None
            assert outage["component"] == f"consumer:{topics}recorder"
            proxy.restore()

            async def all_of_them() -> bool:
                return len(await _recorded(direct)) == 100

            await _until(all_of_them, 60)
            recorded = await _recorded(direct)
            assert sorted(e for e, _ in recorded) == sorted(e.id for e in first + second)
            assert {n for _, n in recorded} == {1}
            assert not task.done()
            await _until(lambda: _true(loop.health()["outage"] is None), 10)
    finally:
        await producer.stop()
        await engine.dispose()


async def _true(value: bool) -> bool:
    return value


class Remembered:
    """A handler whose effect is a list; flushed as the batch ends."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.recorded: list[str] = []

    async def handle(self, envelope: Envelope) -> None:
        self.pending.append(envelope.id)

    async def flush(self) -> None:
        self.recorded.extend(self.pending)
        self.pending = []


async def test_a_redis_outage_under_a_loop_with_redis_dedupe_loses_and_doubles_nothing(
    topics: str,
) -> None:
    url = urlsplit(REDIS_URL)
    assert url.hostname is not None
    assert url.port is not None
    proxy = TcpProxy(url.hostname, url.port)
    await proxy.start()
    redis = Redis(host="127.0.0.1", port=proxy.port, db=4, socket_timeout=1)
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    handler = Remembered()
    loop = signals_loop(topics, "remember", handler, producer, RedisDedupe(redis, namespace=topics))
    first = opt_outs(STREAM, range(1, 31))
    second = opt_outs(STREAM, range(31, 61))
    try:
        async with running(loop) as task:
            await producer.publish(first)
            await _until(lambda: _true(len(handler.recorded) == 30), 30)
            proxy.cut()
            await producer.publish([*second, *first[:10]])
            await asyncio.sleep(6)  # redis-py spends ~4 s retrying before it reports an error
            assert not task.done()
            assert loop.health()["outage"] is not None
            proxy.restore()
            await _until(lambda: _true(len(set(handler.recorded)) == 60), 60)
            await asyncio.sleep(1)
            assert sorted(handler.recorded) == sorted(e.id for e in first + second)
    finally:
        await producer.stop()
        await redis.aclose()
        await proxy.stop()
