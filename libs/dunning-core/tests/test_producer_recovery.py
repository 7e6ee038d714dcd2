"""A loop whose idempotent producer is broken for good (the broker answered
OUT_OF_ORDER_SEQUENCE_NUMBER, as after a broker restart lost the producer's state) rebuilds
the producer and redoes the batch: every event published, the loop healthy again.

The gap in the sequence is made on the client (the broker's answer is real): aiokafka then
fails every pending and later send with that error, until a new producer replaces it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.topics import DELIVERY
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.gate import NewYorkSms
from dunning_testkit.stack import KAFKA

from .loops import opt_outs, running, signals_loop

pytestmark = pytest.mark.integration

STREAM = NewYorkSms("P")


class Forwarder:
    """Handles an event by publishing its id on another topic (as the gate publishes its
    decisions); ``flush`` waits until the broker has them."""

    def __init__(self, producer: EventProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.pending: list[asyncio.Future[Any]] = []

    async def handle(self, envelope: Envelope) -> None:
        self.pending.append(
            await self.producer.send_raw(self.topic, envelope.id.encode(), envelope.id.encode(), [])
        )

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        await asyncio.gather(*pending)


def break_sequences(producer: EventProducer, topic: str) -> None:
    """Skip sequence numbers on every partition: the broker refuses the next batch."""
    inner = producer._producer  # the test reaches in to make the fault
    manager = inner._txn_manager
    for partition in range(3):
        manager.increment_sequence_number(TopicPartition(topic, partition), 5)


async def forwarded(topic: str, expected: int, seconds: float) -> list[str]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    seen: list[str] = []
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while len(set(seen)) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            seen += [r.value.decode() for records in batches.values() for r in records if r.value]
    finally:
        await consumer.stop()
    return seen


async def test_a_loop_rebuilds_a_producer_broken_by_out_of_order_sequence(topics: str) -> None:
    out = f"{topics}{DELIVERY}"
    source = EventProducer(KAFKA, "test-source", topic_prefix=topics)
    producer = EventProducer(KAFKA, "test-forwarder", topic_prefix=topics)
    await source.start()
    await producer.start()
    loop = signals_loop(topics, "forwarder", Forwarder(producer, out), producer)
    first = opt_outs(STREAM, range(1, 21))
    second = opt_outs(STREAM, range(21, 41))
    try:
        async with running(loop) as task:
            await source.publish(first)
            assert len(set(await forwarded(out, 20, 30))) == 20
            break_sequences(producer, out)
            await source.publish(second)
            seen = await forwarded(out, 40, 30)
            assert set(seen) == {e.id for e in first + second}
            assert producer.rebuilds >= 1
            assert not task.done()
            for _ in range(50):
                if loop.health()["ok"]:
                    break
                await asyncio.sleep(0.2)
            assert loop.health()["ok"], loop.health()
    finally:
        await producer.stop()
        await source.stop()
