"""The gate reads its own decisions topic only to rebuild: idle otherwise, yet lag stays true,
and a rebuild still counts every approval it finds there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from dunning_core.contracts import (
    AccountOpened,
    Channel,
    MessageContent,
    Money,
    OutreachStep,
    Stage,
    StepDecided,
    StepPlanned,
    decode,
    step_id,
    wrap,
)
from dunning_core.contracts.events import Consumer, Debt, PhoneContact
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_core.testing import KAFKA, REDIS_URL
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.pipeline import GatePipeline
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

# Tuesday 3 March 2026, 11:00 in New York.
NOW = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
BODY = (
    "Acme Recovery: this message is from a debt collector. We are attempting to collect a "
    "debt and any information obtained will be used for that purpose. Your Example Bank "
    "balance is $120.00. Pay at https://pay.example.com. Reply STOP to opt out."
)
ACCOUNTS = range(1, 13)


def account(n: int) -> AccountOpened:
    return AccountOpened(
        account_id=f"B{n:04d}",
        revision=1,
        consumer=Consumer(
            full_name="Sam Doe",
            state="NY",
            zip_code="10001",
            phones=(
                PhoneContact(number=f"+1212555{n:04d}", reassigned_checked_on=date(2026, 2, 20)),
            ),
        ),
        debt=Debt(
            debt_id=f"E{n:04d}",
            creditor="Example Bank",
            balance=Money(amount_minor=12_000),
            due_date=date(2026, 1, 1),
            limitation_date=date(2029, 1, 1),
            validation_notice_sent_at=datetime(2026, 1, 20, 15, tzinfo=UTC),
        ),
        opened_at=NOW - timedelta(days=30),
    )


def planned(n: int, attempt: int) -> StepPlanned:
    content = MessageContent(body=BODY)
    return StepPlanned(
        account_id=f"B{n:04d}",
        step=OutreachStep(
            step_id=step_id(f"B{n:04d}", f"E{n:04d}", "friendly_reminder", "sms", attempt),
            debt_id=f"E{n:04d}",
            stage=Stage.FRIENDLY_REMINDER,
            channel=Channel.SMS,
            attempt=attempt,
            destination=f"+1212555{n:04d}",
            content=content,
            content_hash=content.content_hash(),
            send_at=NOW,
            first_communication=attempt == 1,
        ),
        planned_at=NOW,
    )


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")
    yield client
    await client.aclose()


async def collect(topic: str, want: Callable[[list[StepDecided]], bool]) -> list[StepDecided]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    found: list[StepDecided] = []
    try:
        async with asyncio.timeout(60):
            while not want(found):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        event = decode(r.key, r.value, r.headers).data
                        assert isinstance(event, StepDecided)
                        found.append(event)
    finally:
        await consumer.stop()
    return found


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("not reached in time")


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
        await producer.publish(wrap(account(n), "ledger") for n in ACCOUNTS)
        await producer.publish(wrap(planned(n, 1), "scheduler") for n in ACCOUNTS)
        await pipeline.start()
        task = asyncio.create_task(pipeline.run())
        first = await collect(decisions_topic, lambda d: len(d) >= len(ACCOUNTS))
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
        await producer.publish(wrap(planned(n, 2), "scheduler") for n in ACCOUNTS)
        everything = await collect(
            decisions_topic, lambda d: sum(1 for x in d if x.attempt == 2) >= len(ACCOUNTS)
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
