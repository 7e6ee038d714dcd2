"""The running gate on the real broker and Redis: decisions, fail-closed, rebuild from the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from dunning_core.contracts import (
    StepApproved,
    StepDecided,
    wrap,
)
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.gate import (
    NewYorkSms,
    collect_decisions,
    collect_events,
    gate_pipeline,
    started,
    stopped,
)
from dunning_testkit.stack import KAFKA
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

STREAM = NewYorkSms("A")


async def test_opt_outs_win_even_after_redis_loses_everything(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    await redis.flushdb()
    pipeline = gate_pipeline(topics, redis)
    accounts = range(1, 41)
    task: asyncio.Task[None] | None = None
    try:
        await producer.publish(wrap(STREAM.account(n), "ledger") for n in accounts)
        await producer.publish(wrap(STREAM.planned(n, 1), "scheduler") for n in accounts)
        task = await started(pipeline)
        decisions_topic = topics + "outreach.decisions.v1"
        first = await collect_decisions(KAFKA, decisions_topic, lambda d: len(d) >= 40)
        assert {d.decision.value for d in first} == {"allow"}, [
            d.findings for d in first if d.decision.value != "allow"
        ][:2]
        vetted = STREAM.planned(1, 1).step.content
        assert all(d.content == vetted for d in first)  # the message, whole, for the ledger

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
                assert decision.content == vetted  # what was refused is on record too
            else:
                assert decision.decision.value != "block", decision.findings
        assert pipeline.stats.rebuilds >= 1
        health = pipeline.health()
        assert health["ready"] is True
        assert health["rebuilding_partitions"] == []
    finally:
        await stopped(pipeline, task)


async def test_gate_fails_closed_while_redis_is_unreachable(
    topics: str, producer: EventProducer
) -> None:
    dead_redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    pipeline = gate_pipeline(topics, dead_redis)
    task: asyncio.Task[None] | None = None
    try:
        await producer.publish(
            [wrap(STREAM.account(1), "ledger"), wrap(STREAM.planned(1, 1), "scheduler")]
        )
        task = await started(pipeline)
        await asyncio.sleep(4)
        health: dict[str, Any] = pipeline.health()
        assert health["ok"] is False
        assert health["decided"] == 0
        assert "Connection" in (health["last_error"] or "")
    finally:
        await stopped(pipeline, task)
        await dead_redis.aclose()


async def test_each_approval_carries_the_close_of_its_window(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    pipeline = gate_pipeline(topics, redis)
    task: asyncio.Task[None] | None = None
    try:
        await producer.publish(
            [wrap(STREAM.account(1), "ledger"), wrap(STREAM.planned(1, 1), "scheduler")]
        )
        task = await started(pipeline)
        approvals = await collect_events(
            KAFKA, topics + "outreach.approved.sms.v1", StepApproved, lambda found: bool(found)
        )
        # NOW is 11:00 in New York (EST): the approval lapses at 21:00 EST.
        assert approvals[0].send_by == datetime(2026, 3, 4, 2, tzinfo=UTC)
    finally:
        await stopped(pipeline, task)
