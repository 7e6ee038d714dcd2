"""The running gate on the real broker and Redis: decisions, fail-closed, rebuild from the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from dunning_core.contracts import StepApproved, StepDecided, wrap
from dunning_core.contracts.events import StepHeld, StepWithdrawn
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit import gate
from dunning_testkit.stack import KAFKA
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

STREAM = gate.NewYorkSms("A")


async def test_opt_outs_win_even_after_redis_loses_everything(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    await redis.flushdb()
    pipeline = gate.gate_pipeline(topics, redis)
    accounts = range(1, 41)
    task: asyncio.Task[None] | None = None
    try:
        await gate.publish_first_texts(producer, STREAM, accounts)
        task = await gate.started(pipeline)
        decisions_topic = topics + "outreach.decisions.v1"
        first = await gate.collect_decisions(KAFKA, decisions_topic, lambda d: len(d) >= 40)
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

        everything = await gate.collect_decisions(KAFKA, decisions_topic, second_round)
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
        await gate.stopped(pipeline, task)


async def test_gate_fails_closed_while_redis_is_unreachable(
    topics: str, producer: EventProducer
) -> None:
    dead_redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    pipeline = gate.gate_pipeline(topics, dead_redis)
    task: asyncio.Task[None] | None = None
    try:
        await gate.publish_first_texts(producer, STREAM, [1])
        task = await gate.started(pipeline)
        await asyncio.sleep(4)
        health: dict[str, Any] = pipeline.health()
        assert health["ok"] is False
        assert health["decided"] == 0
        assert "Connection" in (health["last_error"] or "")
    finally:
        await gate.stopped(pipeline, task)
        await dead_redis.aclose()


async def test_each_approval_carries_the_close_of_its_window(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    pipeline = gate.gate_pipeline(topics, redis)
    task: asyncio.Task[None] | None = None
    try:
        await gate.publish_first_texts(producer, STREAM, [1])
        task = await gate.started(pipeline)
        approvals = await gate.collect_events(
            KAFKA, topics + "outreach.approved.sms.v1", StepApproved, lambda found: bool(found)
        )
        # NOW is 11:00 in New York (EST): the approval lapses at 21:00 EST.
        assert approvals[0].send_by == datetime(2026, 3, 4, 2, tzinfo=UTC)
    finally:
        await gate.stopped(pipeline, task)


async def test_the_schedulers_holds_and_withdrawals_pass_by_unjudged(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    """They travel on the planned topic for other subscribers: the gate neither decides
    them nor dead-letters them, and commits past them."""
    pipeline = gate.gate_pipeline(topics, redis)
    task: asyncio.Task[None] | None = None
    plan = STREAM.planned(1, 1)
    step = plan.step
    said: dict[str, Any] = {
        "account_id": plan.account_id,
        "step_id": "stp_earlier",
        "debt_id": step.debt_id,
    }
    said |= {"channel": step.channel, "attempt": 1}
    held = StepHeld(**said, send_at=gate.NOW, reason="expired", held_at=gate.NOW)
    withdrawn = StepWithdrawn(**said, reason="moved on", withdrawn_at=gate.NOW)
    try:
        await producer.publish(
            [wrap(STREAM.account(1), "ledger")]
            + [wrap(e, "scheduler") for e in (held, withdrawn, plan)]
        )
        task = await gate.started(pipeline)
        decisions_topic = topics + "outreach.decisions.v1"
        decided = await gate.collect_decisions(KAFKA, decisions_topic, lambda d: bool(d))
        assert [d.step_id for d in decided] == [step.step_id]
        planned = topics + "outreach.planned.v1"
        await gate.eventually(lambda: _lag_is_zero(f"{topics}gate", planned))
        assert pipeline.stats.dead_lettered == 0
    finally:
        await gate.stopped(pipeline, task)


async def _lag_is_zero(group: str, topic: str) -> bool:
    return await gate.committed_lag(group, [topic]) == 0
