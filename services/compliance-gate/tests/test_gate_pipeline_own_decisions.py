"""The gate reads its own decisions topic only to rebuild: idle otherwise, yet lag stays true,
and a rebuild still counts every approval it finds there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from dunning_core.contracts import (
    wrap,
)
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.handlers import GatePipeline
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider
from dunning_testkit.gate import NOW, NewYorkSms, collect_decisions, eventually
from dunning_testkit.stack import KAFKA, REDIS_URL
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

STREAM = NewYorkSms("B")

ACCOUNTS = range(1, 13)


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")
    yield client
    await client.aclose()


async def committed_lag(group: str, topic: str) -> int:
    """How far the group's committed offsets on `topic` trail its end offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(tps)
        return sum(ends[tp] - max(committed[tp].offset if tp in committed else 0, 0) for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()


async def test_own_decisions_idle_in_steady_running_but_counted_by_a_rebuild(
    topics: str, redis: Redis
) -> None:
    await redis.flushdb()
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    gate_producer = EventProducer(KAFKA, "gate", topic_prefix=topics)
    await producer.start()
    await gate_producer.start()
    group = f"{topics}gate"
    pipeline = GatePipeline(
        bootstrap=KAFKA,
        group_id=group,
        store=RedisStateStore(redis, prefix=topics),
        producer=gate_producer,
        decide=GateDecider(default_policy()),
        clock=FixedClock(NOW),
        topic_prefix=topics,
    )
    decisions_topic = topics + "outreach.decisions.v1"
    task: asyncio.Task[None] | None = None
    try:
        await producer.publish(wrap(STREAM.account(n), "ledger") for n in ACCOUNTS)
        await producer.publish(wrap(STREAM.planned(n, 1), "scheduler") for n in ACCOUNTS)
        await pipeline.start()
        task = asyncio.create_task(pipeline.run())
        first = await collect_decisions(KAFKA, decisions_topic, lambda d: len(d) >= len(ACCOUNTS))
        assert {d.decision.value for d in first} == {"allow"}

        # Steady running: our decisions partitions are paused, none was read back as a
        # state event, and the committed offsets still reach the end of the topic.
        async def caught_up() -> bool:
            return await committed_lag(group, decisions_topic) == 0

        await eventually(caught_up)
        own = {tp for tp in pipeline._consumer.assignment() if tp.topic == decisions_topic}
        assert own
        assert own <= pipeline._consumer.paused()
        assert pipeline.stats.state_events == len(ACCOUNTS)  # the accounts, nothing more

        # Redis loses everything; the rebuild reads the decisions topic from the start,
        # so the first approvals still count: a second text the same day waits.
        await redis.flushdb()
        await producer.publish(wrap(STREAM.planned(n, 2), "scheduler") for n in ACCOUNTS)
        everything = await collect_decisions(
            KAFKA, decisions_topic, lambda d: sum(1 for x in d if x.attempt == 2) >= len(ACCOUNTS)
        )
        for decision in (d for d in everything if d.attempt == 2):
            assert decision.decision.value == "defer", decision
            assert {f.rule_id for f in decision.findings} == {"frequency.electronic"}
        assert pipeline.stats.rebuilds >= 1
        assert pipeline.stats.state_events >= 2 * len(ACCOUNTS)

        async def idle_again() -> bool:
            return not pipeline.rebuilding and own <= pipeline._consumer.paused()

        await eventually(idle_again)
    finally:
        pipeline.request_stop()
        if task is not None:
            await task
        await producer.stop()
        await gate_producer.stop()
