"""Builders of event streams for the gate's integration tests, and readers of what it decided.

``NewYorkSms`` makes the accounts of one test (an id letter of its own, so tests sharing a
Redis database never meet), each a New York consumer with one phone, and their
friendly-reminder texts at ``NOW``: 11:00 on a Tuesday in New York, inside calling hours,
one text a day allowed by the default policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

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
from dunning_core.contracts.events import (
    Consumer,
    ConsumerSignaled,
    Debt,
    PhoneContact,
    SignalKind,
)
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.handlers import GatePipeline
from dunning_gate.policy.loader import default_policy
from dunning_gate.ports import Decider
from dunning_gate.service import GateDecider
from dunning_testkit.paths import KAFKA, REDIS_URL
from redis.asyncio import Redis

E = TypeVar("E")

NOW = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
SMS_BODY = (
    "Acme Recovery: this message is from a debt collector. We are attempting to collect a "
    "debt and any information obtained will be used for that purpose. Your Example Bank "
    "balance is $120.00. Pay at https://pay.example.com. Reply STOP to opt out."
)


@dataclass(frozen=True)
class NewYorkSms:
    letter: str  # account ids are <letter>0001...; debts <letter>D0001...

    def account_id(self, n: int) -> str:
        return f"{self.letter}{n:04d}"

    def debt_id(self, n: int) -> str:
        return f"{self.letter}D{n:04d}"

    @staticmethod
    def phone(n: int) -> str:
        return f"+1212555{n:04d}"

    def account(self, n: int) -> AccountOpened:
        return AccountOpened(
            account_id=self.account_id(n),
            revision=1,
            consumer=Consumer(
                full_name="Sam Doe",
                state="NY",
                zip_code="10001",
                phones=(
                    PhoneContact(number=self.phone(n), reassigned_checked_on=date(2026, 2, 20)),
                ),
            ),
            debt=Debt(
                debt_id=self.debt_id(n),
                creditor="Example Bank",
                balance=Money(amount_minor=12_000),
                due_date=date(2026, 1, 1),
                limitation_date=date(2029, 1, 1),
                validation_notice_sent_at=datetime(2026, 1, 20, 15, tzinfo=UTC),
            ),
            opened_at=NOW - timedelta(days=30),
        )

    def planned(self, n: int, attempt: int) -> StepPlanned:
        content = MessageContent(body=SMS_BODY)
        return StepPlanned(
            account_id=self.account_id(n),
            step=OutreachStep(
                step_id=step_id(
                    self.account_id(n), self.debt_id(n), "friendly_reminder", "sms", attempt
                ),
                debt_id=self.debt_id(n),
                stage=Stage.FRIENDLY_REMINDER,
                channel=Channel.SMS,
                attempt=attempt,
                destination=self.phone(n),
                content=content,
                content_hash=content.content_hash(),
                send_at=NOW,
                first_communication=attempt == 1,
            ),
            planned_at=NOW,
        )

    def opt_out(self, n: int, text: str = "stop please") -> ConsumerSignaled:
        return ConsumerSignaled(
            account_id=self.account_id(n),
            signal_id=f"STOP-{self.account_id(n)}",
            kind=SignalKind.OPTED_OUT,
            channel=Channel.SMS,
            address=self.phone(n),
            text=text,
            source="sms",
            occurred_at=NOW,
        )


async def publish_first_texts(
    producer: EventProducer, stream: NewYorkSms, accounts: Iterable[int]
) -> None:
    """Publish the accounts ``accounts`` of ``stream``, then a first text to each."""
    await producer.publish(wrap(stream.account(n), "ledger") for n in accounts)
    await producer.publish(wrap(stream.planned(n, 1), "scheduler") for n in accounts)


def gate_redis() -> Redis:
    """The Redis database the gate's integration tests share (keys apart by prefix)."""
    return Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")


def gate_pipeline(topics: str, redis: Redis, decide: Decider | None = None) -> GatePipeline:
    """The gate's consumer on topics ``topics*``, its state in ``redis`` under the same
    prefix, deciding at ``NOW`` (its producer not started yet)."""
    return GatePipeline(
        bootstrap=KAFKA,
        group_id=f"{topics}gate",
        store=RedisStateStore(redis, prefix=topics),
        producer=EventProducer(KAFKA, "gate", topic_prefix=topics),
        decide=decide or GateDecider(default_policy()),
        clock=FixedClock(NOW),
        topic_prefix=topics,
    )


async def started(pipeline: GatePipeline) -> asyncio.Task[None]:
    """Start the pipeline (and its producer); its run loop as a task."""
    await pipeline.producer.start()
    await pipeline.start()
    return asyncio.create_task(pipeline.run())


async def stopped(pipeline: GatePipeline, task: asyncio.Task[None] | None) -> None:
    """Stop what :func:`started` started (``task`` None: the loop never ran)."""
    pipeline.request_stop()
    if task is not None:
        await task
    await pipeline.producer.stop()


async def committed_lag(group: str, topics: list[str]) -> int:
    """How far the group's committed offsets on ``topics`` trail their end offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        await consumer.topics()
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = await consumer.end_offsets(tps)
        return sum(ends[tp] - max(committed[tp].offset if tp in committed else 0, 0) for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()


async def collect_events(
    bootstrap: str, topic: str, kind: type[E], want: Callable[[list[E]], bool], seconds: float = 60
) -> list[E]:
    """Read a topic from the start until ``want`` holds of what was read (all ``kind``)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[E] = []
    try:
        async with asyncio.timeout(seconds):
            while not want(found):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        event = decode(r.key, r.value, r.headers).data
                        assert isinstance(event, kind)
                        found.append(event)
    finally:
        await consumer.stop()
    return found


async def collect_decisions(
    bootstrap: str, topic: str, want: Callable[[list[StepDecided]], bool], seconds: float = 60
) -> list[StepDecided]:
    """Read the decisions topic from the start until ``want`` holds of what was read."""
    return await collect_events(bootstrap, topic, StepDecided, want, seconds)


async def all_allowed(bootstrap: str, topic: str, count: int) -> None:
    """Read the decisions topic until it holds ``count`` decisions; each is an allow."""
    decisions = await collect_decisions(bootstrap, topic, lambda d: len(d) >= count)
    assert {d.decision.value for d in decisions} == {"allow"}


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not reached in {seconds} s")
