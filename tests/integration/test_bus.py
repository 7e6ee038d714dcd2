"""The shared consumer loop against the real broker: redelivery, dead letters, commits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from dunning_core.contracts import Envelope, wrap
from dunning_core.contracts.common import Money
from dunning_core.contracts.events import PaymentReceived
from dunning_core.runtime.errors import PermanentError
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_testkit.stack import KAFKA

pytestmark = pytest.mark.integration


def payment(n: int, account: str = "acc-1") -> PaymentReceived:
    return PaymentReceived(
        account_id=account,
        payment_id=f"pay-{n}",
        debt_id="debt-1",
        amount=Money(amount_minor=100 * n),
        remaining_balance=Money(amount_minor=0),
        received_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
    )


class Recorder:
    """A handler that keeps effects in memory and refuses payments numbered 13."""

    def __init__(self) -> None:
        self.effects: list[str] = []
        self.staged: list[str] = []

    async def handle(self, envelope: Envelope) -> None:
        assert isinstance(envelope.data, PaymentReceived)
        if envelope.data.payment_id == "pay-13":
            raise PermanentError("payment 13 is cursed")
        self.staged.append(envelope.data.payment_id)

    async def flush(self) -> None:
        self.effects.extend(self.staged)
        self.staged.clear()


async def consume(
    topics: str, group: str, handler: Recorder, done: Callable[[ConsumerLoop], bool]
) -> ConsumerLoop:
    """Run a loop over payments.v1 (its own DLQ producer) until ``done``; the loop after."""
    dlq_producer = EventProducer(KAFKA, "test-dlq")
    await dlq_producer.start()
    loop = ConsumerLoop(
        bootstrap=KAFKA,
        group_id=f"{topics}{group}",
        topics=["payments.v1"],
        handler=handler,
        producer=dlq_producer,
        topic_prefix=topics,
    )
    await loop.start()
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(30.0):
            while not done(loop):  # noqa: ASYNC110 - polling a plain predicate
                await asyncio.sleep(0.05)
    finally:
        loop.request_stop()
        await task
        await dlq_producer.stop()
    return loop


async def test_redelivered_event_has_one_effect_and_poison_goes_to_dlq(topics: str) -> None:
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    try:
        events = [wrap(payment(n), "test") for n in range(1, 21)]
        await producer.publish(events)
        await producer.publish(events[:5])  # the same five events again: a redelivery
        # A record that is not an event at all.
        await (await producer.send_raw(topics + "payments.v1", b"acc-1", b"garbage", []))
    finally:
        await producer.stop()

    handler = Recorder()
    loop = await consume(
        topics, "g", handler, lambda loop: loop.stats.handled + loop.stats.dead_lettered >= 21
    )

    assert sorted(handler.effects) == sorted(f"pay-{n}" for n in range(1, 21) if n != 13)
    assert loop.stats.duplicates == 5
    assert loop.stats.dead_lettered == 2

    consumer = AIOKafkaConsumer(
        topics + "payments.v1.dlq", bootstrap_servers=KAFKA, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000, max_records=10)
        dead = [r for recs in batches.values() for r in recs]
    finally:
        await consumer.stop()
    errors = sorted(dict(r.headers)["dlq_error"].decode() for r in dead)
    assert len(errors) == 2
    assert "missing header ce_id" in errors[0] or "missing header ce_id" in errors[1]
    assert any("payment 13 is cursed" in e for e in errors)


async def test_offsets_are_committed_only_after_flush(topics: str) -> None:
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    await producer.publish([wrap(payment(n), "test") for n in range(1, 4)])
    await producer.stop()

    class FailingFlush(Recorder):
        failures = 2

        async def flush(self) -> None:
            if self.staged and self.failures:
                self.failures -= 1
                self.staged.clear()
                raise ConnectionError("database away")
            await super().flush()

    handler = FailingFlush()
    await consume(topics, "g2", handler, lambda _: len(handler.effects) >= 3)
    # Both failed flushes were redelivered, not lost, and nothing was doubled.
    assert sorted(handler.effects) == ["pay-1", "pay-2", "pay-3"]
    assert handler.failures == 0
