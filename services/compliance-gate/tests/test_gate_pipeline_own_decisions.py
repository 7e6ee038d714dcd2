"""The gate reads its own decisions topic only to rebuild: idle otherwise, yet lag stays true,
and a rebuild still counts every approval it finds there."""

from __future__ import annotations

import asyncio

import pytest
from dunning_core.contracts import wrap
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit import gate
from dunning_testkit.stack import KAFKA
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

STREAM = gate.NewYorkSms("B")

ACCOUNTS = range(1, 13)


async def test_own_decisions_idle_in_steady_running_but_counted_by_a_rebuild(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    await redis.flushdb()
    group = f"{topics}gate"
    pipeline = gate.gate_pipeline(topics, redis)
    decisions_topic = topics + "outreach.decisions.v1"
    task: asyncio.Task[None] | None = None
    try:
        await gate.publish_first_texts(producer, STREAM, ACCOUNTS)
        task = await gate.started(pipeline)
        await gate.all_allowed(KAFKA, decisions_topic, len(ACCOUNTS))

        # Steady running: our decisions partitions are paused, none was read back as a
        # state event, and the committed offsets still reach the end of the topic.
        async def caught_up() -> bool:
            return await gate.committed_lag(group, [decisions_topic]) == 0

        await gate.eventually(caught_up)
        own = {tp for tp in pipeline._consumer.assignment() if tp.topic == decisions_topic}
        assert own
        assert own <= pipeline._consumer.paused()
        assert pipeline.stats.state_events == len(ACCOUNTS)  # the accounts, nothing more

        # Redis loses everything; the rebuild reads the decisions topic from the start,
        # so the first approvals still count: a second text the same day waits.
        await redis.flushdb()
        await producer.publish(wrap(STREAM.planned(n, 2), "scheduler") for n in ACCOUNTS)
        everything = await gate.collect_decisions(
            KAFKA, decisions_topic, lambda d: sum(1 for x in d if x.attempt == 2) >= len(ACCOUNTS)
        )
        for decision in (d for d in everything if d.attempt == 2):
            assert decision.decision.value == "defer", decision
            assert {f.rule_id for f in decision.findings} == {"frequency.electronic"}
        assert pipeline.stats.rebuilds >= 1
        assert pipeline.stats.state_events >= 2 * len(ACCOUNTS)

        async def idle_again() -> bool:
            return not pipeline.rebuilding and own <= pipeline._consumer.paused()

        await gate.eventually(idle_again)
    finally:
        await gate.stopped(pipeline, task)
