"""The running gate on the real broker and Redis: decisions, fail-closed, rebuild from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dunning_core.contracts import (
    StepApproved,
    StepDecided,
    wrap,
)
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.handlers import GatePipeline
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider
from dunning_testkit.gate import NOW, NewYorkSms, collect_decisions, collect_events
from dunning_testkit.stack import KAFKA, REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

STREAM = NewYorkSms("A")


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")
    yield client
    await client.aclose()


async def test_opt_outs_win_even_after_redis_loses_everything(topics: str, redis: Redis) -> None:
    await redis.flushdb()
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    gate_producer = EventProducer(KAFKA, "gate", topic_prefix=topics)
    await gate_producer.start()
    pipeline = GatePipeline(
        bootstrap=KAFKA,
        group_id=f"{topics}gate",
        store=RedisStateStore(redis, prefix=topics),
        producer=gate_producer,
        decide=GateDecider(default_policy()),
        clock=FixedClock(NOW),
        topic_prefix=topics,
    )
    accounts = range(1, 41)
    task: asyncio.Task[None] | None = None
    try:
        await producer.publish(wrap(STREAM.account(n), "ledger") for n in accounts)
        await producer.publish(wrap(STREAM.planned(n, 1), "scheduler") for n in accounts)
        await pipeline.start()
        task = asyncio.create_task(pipeline.run())
        decisions_topic = topics + "outreach.decisions.v1"
        first = await collect_decisions(KAFKA, decisions_topic, lambda d: len(d) >= 40)
        assert {d.decision.value for d in first} == {"allow"}, [
            d.findings for d in first if d.decision.value != "allow"
        ][:2]

        # Half the consumers text STOP; then Redis loses every key mid-run.
        await producer.publish(wrap(STREAM.opt_out(n), "sms") for n in accounts if n % 2 == 0)
        await asyncio.sleep(1.0)
        await redis.flushdb()
        await producer.publish(wrap(STREAM.planned(n, 2), "scheduler") for n in accounts)

        def second_round(d: list[StepDecided]) -> bool:
            return sum(1 for x in d if x.attempt == 2) >= 40

        everything = await collect_decisions(KAFKA, decisions_topic, second_round)
        second = {d.account_id: d for d in everything if d.attempt == 2}
        for n in accounts:
            decision = second[f"A{n:04d}"]
            if n % 2 == 0:
                assert decision.decision.value == "block", decision
                assert "optout.channel" in {f.rule_id for f in decision.findings}
            else:
                assert decision.decision.value != "block", decision.findings
        assert pipeline.stats.rebuilds >= 1
        health = pipeline.health()
        assert health["ready"] is True
        assert health["rebuilding_partitions"] == []
    finally:
        pipeline.request_stop()
        if task is not None:
            await task
        await producer.stop()
        await gate_producer.stop()


async def test_gate_fails_closed_while_redis_is_unreachable(topics: str) -> None:
    dead_redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    gate_producer = EventProducer(KAFKA, "gate", topic_prefix=topics)
    await gate_producer.start()
    pipeline = GatePipeline(
        bootstrap=KAFKA,
        group_id=f"{topics}gate",
        store=RedisStateStore(dead_redis, prefix=topics),
        producer=gate_producer,
        decide=GateDecider(default_policy()),
        clock=FixedClock(NOW),
        topic_prefix=topics,
    )
    try:
        await producer.publish(
            [wrap(STREAM.account(1), "ledger"), wrap(STREAM.planned(1, 1), "scheduler")]
        )
        await pipeline.start()
        task = asyncio.create_task(pipeline.run())
        await asyncio.sleep(4)
        health: dict[str, Any] = pipeline.health()
        assert health["ok"] is False
        assert health["decided"] == 0
        assert "Connection" in (health["last_error"] or "")
        pipeline.request_stop()
        await task
    finally:
        await producer.stop()
        await gate_producer.stop()
        await dead_redis.aclose()


async def test_each_approval_carries_the_close_of_its_window(topics: str, redis: Redis) -> None:
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    gate_producer = EventProducer(KAFKA, "gate", topic_prefix=topics)
    await gate_producer.start()
    pipeline = GatePipeline(
        bootstrap=KAFKA,
        group_id=f"{topics}gate",
        store=RedisStateStore(redis, prefix=topics),
        producer=gate_producer,
        decide=GateDecider(default_policy()),
        clock=FixedClock(NOW),
        topic_prefix=topics,
    )
    task: asyncio.Task[None] | None = None
    try:
        await producer.publish(
            [wrap(STREAM.account(1), "ledger"), wrap(STREAM.planned(1, 1), "scheduler")]
        )
        await pipeline.start()
        task = asyncio.create_task(pipeline.run())
        approvals = await collect_events(
            KAFKA, topics + "outreach.approved.sms.v1", StepApproved, lambda found: bool(found)
        )
        # NOW is 11:00 in New York (EST): the approval lapses at 21:00 EST.
        assert approvals[0].send_by == datetime(2026, 3, 4, 2, tzinfo=UTC)
    finally:
        pipeline.request_stop()
        if task is not None:
            await task
        await producer.stop()
        await gate_producer.stop()
