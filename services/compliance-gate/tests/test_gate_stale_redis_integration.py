"""Redis comes back from an older copy of the gate's keys (a backup restored, a failover to a
lagging replica): the gate notices its state is behind the committed offsets and rebuilds,
so an opt-out or an approval made after that copy still counts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime

import pytest
from dunning_core.contracts import StepPlanned, wrap
from dunning_core.runtime.kafka import EventProducer
from dunning_gate.domain.state import AccountState
from dunning_gate.handlers import GatePipeline
from dunning_gate.policy.loader import default_policy
from dunning_gate.ports import Decided, Decider
from dunning_gate.service import GateDecider
from dunning_testkit import gate
from dunning_testkit.stack import KAFKA, REDIS_URL
from redis import Redis as SyncRedis
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

STREAM = gate.NewYorkSms("S")

ACCOUNTS = range(1, 31)
OPTED_OUT = {n for n in ACCOUNTS if n % 2 == 0}


async def dump_keys(redis: Redis, prefix: str) -> dict[bytes, bytes]:
    """A copy of every gate key under `prefix`, as DUMP gives it (what a backup holds)."""
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
    async with redis.pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.dump(key)
        blobs = await pipe.execute()
    return dict(zip(keys, blobs, strict=True))


async def restore_keys(redis: Redis, prefix: str, copy: dict[bytes, bytes]) -> None:
    """Put the copy back in place of the gate's current keys, in one transaction, as a
    restart from an old snapshot would appear to the gate."""
    current = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
    async with redis.pipeline(transaction=True) as pipe:
        if current:
            pipe.delete(*current)
        for key, blob in copy.items():
            pipe.restore(key, 0, blob, replace=True)
        await pipe.execute()


class DecidingWhileRedisChanges:
    """Decides like the gate; when armed, `meddle` changes Redis just as the step
    `trigger` is being decided: after the batch read its states, before it writes them."""

    def __init__(self, decide: Decider, trigger: str) -> None:
        self.decide = decide
        self.trigger = trigger
        self.meddle: Callable[[], None] | None = None

    def __call__(
        self, planned: StepPlanned, event_id: str, state: AccountState, now: datetime
    ) -> Decided:
        if self.meddle is not None and planned.step.step_id == self.trigger:
            meddle, self.meddle = self.meddle, None
            meddle()
        return self.decide(planned, event_id, state, now)


def meddling_gate(topics: str, redis: Redis) -> tuple[DecidingWhileRedisChanges, GatePipeline]:
    """The gate (not started), its decider armed to meddle on account 1's second text."""
    decide = DecidingWhileRedisChanges(
        GateDecider(default_policy()), STREAM.planned(1, 2).step.step_id
    )
    return decide, gate.gate_pipeline(topics, redis, decide)


def sync_redis() -> SyncRedis:
    return SyncRedis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")


def restore_keys_now(prefix: str, copy: dict[bytes, bytes]) -> None:
    with sync_redis() as client:
        current = list(client.scan_iter(match=f"{prefix}*", count=1000))
        with client.pipeline(transaction=True) as pipe:
            if current:
                pipe.delete(*current)
            for key, blob in copy.items():
                pipe.restore(key, 0, blob, replace=True)
            pipe.execute()


def move_watermarks_on_now(prefix: str) -> None:
    """What a replica that has not yet seen a rebalance does: save a newer state."""
    with sync_redis() as client:
        for key in client.scan_iter(match=f"{prefix}applied:*"):
            offsets = json.loads(client.get(key) or b"{}")
            client.set(key, json.dumps({topic: n + 1 for topic, n in offsets.items()}))


@pytest.mark.parametrize("when", ["while-idle", "while-stopped", "while-deciding"])
async def test_redis_restored_from_an_older_copy_is_rebuilt_not_trusted(
    topics: str, producer: EventProducer, redis: Redis, when: str
) -> None:
    group = f"{topics}gate"
    decisions_topic = topics + "outreach.decisions.v1"
    decide, pipeline = meddling_gate(topics, redis)
    task: asyncio.Task[None] | None = None
    try:
        # The accounts are known and committed: this is the copy Redis will come back from.
        await producer.publish(wrap(STREAM.account(n), "ledger") for n in ACCOUNTS)
        task = await gate.started(pipeline)

        async def accounts_saved() -> bool:
            return pipeline.ready and await gate.committed_lag(group, [topics + "accounts.v1"]) == 0

        await gate.eventually(accounts_saved)
        copy = await dump_keys(redis, topics)
        assert any(b"acct:" in key for key in copy)

        # After the copy: a first text to everyone (counted against the daily cap), then
        # half of them text STOP. Both are applied, saved and committed.
        await producer.publish(wrap(STREAM.planned(n, 1), "scheduler") for n in ACCOUNTS)
        await gate.all_allowed(KAFKA, decisions_topic, len(ACCOUNTS))
        await producer.publish(wrap(STREAM.opt_out(n), "sms") for n in OPTED_OUT)

        async def all_committed() -> bool:
            names = ["outreach.planned.v1", "consumer.signals.v1", "outreach.decisions.v1"]
            return await gate.committed_lag(group, [topics + t for t in names]) == 0

        await gate.eventually(all_committed)

        # Redis comes back from the copy: the gate's keys are there, the recent state not.
        if when == "while-stopped":
            await gate.stopped(pipeline, task)
            task = None
            await restore_keys(redis, topics, copy)
            pipeline = gate.gate_pipeline(topics, redis, decide)
            task = await gate.started(pipeline)
        elif when == "while-idle":
            await restore_keys(redis, topics, copy)
        else:
            # One step alone in its batch: only its account is written back with the
            # batch, the other accounts of its partition keep the old copy's state.
            decide.meddle = lambda: restore_keys_now(topics, copy)
            await producer.publish([wrap(STREAM.planned(1, 2), "scheduler")])
            await gate.collect_decisions(
                KAFKA, decisions_topic, lambda d: any(x.attempt == 2 for x in d)
            )
            assert decide.meddle is None

        await producer.publish(wrap(STREAM.planned(n, 2), "scheduler") for n in ACCOUNTS)
        everything = await gate.collect_decisions(
            KAFKA,
            decisions_topic,
            lambda d: {x.account_id for x in d if x.attempt == 2} >= set(ids()),
        )

        second = [d for d in everything if d.attempt == 2]
        for decision in second:
            n = int(decision.account_id[1:])
            rules = {f.rule_id for f in decision.findings}
            if n in OPTED_OUT:
                assert decision.decision.value == "block", (n, decision.decision, rules)
                assert "optout.channel" in rules, rules
            else:
                assert decision.decision.value == "defer", (n, decision.decision, rules)
                assert "frequency.electronic" in rules, rules
        allowed: dict[str, set[str]] = {}
        for decision in everything:
            if decision.decision.value == "allow":
                allowed.setdefault(decision.account_id, set()).add(decision.step_id)
        assert all(len(steps) <= 1 for steps in allowed.values()), allowed

        health = pipeline.health()
        assert health["stale_rebuilds"] >= 1, health
        assert health["rebuilds"] >= health["stale_rebuilds"]

        async def ready_again() -> bool:
            report = pipeline.health()
            return bool(report["ready"]) and report["rebuilding_partitions"] == []

        await gate.eventually(ready_again)
    finally:
        await gate.stopped(pipeline, task)


def ids() -> list[str]:
    return [STREAM.account_id(n) for n in ACCOUNTS]


async def test_a_newer_state_saved_underneath_a_batch_is_retried_not_rebuilt(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    decisions_topic = topics + "outreach.decisions.v1"
    decide, pipeline = meddling_gate(topics, redis)
    task: asyncio.Task[None] | None = None
    try:
        await gate.publish_first_texts(producer, STREAM, ACCOUNTS)
        task = await gate.started(pipeline)
        await gate.all_allowed(KAFKA, decisions_topic, len(ACCOUNTS))
        rebuilds = pipeline.stats.rebuilds

        decide.meddle = lambda: move_watermarks_on_now(topics)
        await producer.publish(wrap(STREAM.planned(n, 2), "scheduler") for n in ACCOUNTS)
        everything = await gate.collect_decisions(
            KAFKA,
            decisions_topic,
            lambda d: {x.account_id for x in d if x.attempt == 2} >= set(ids()),
        )
        assert decide.meddle is None
        for decision in (d for d in everything if d.attempt == 2):
            assert decision.decision.value == "defer", decision
        assert pipeline.stats.retries >= 1
        assert pipeline.stats.stale_rebuilds == 0
        assert pipeline.stats.rebuilds == rebuilds
    finally:
        await gate.stopped(pipeline, task)
