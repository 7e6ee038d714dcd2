"""The raw bus on the local broker: one producer and one consumer, 1 KB JSON values.

aiokafka (what the services use) against confluent-kafka (librdkafka), so the choice of
client is measured, not assumed. Both produce with idempotence on (acks=all) and
batching (linger 5 ms), and consume the same count from the beginning.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, Producer

from bench.common import KAFKA, delete_topics, fresh_topic, peak_rss_mb, report

COUNT = int(os.environ.get("BENCH_BUS_MESSAGES", "100000"))


def one_kb_value(n: int) -> bytes:
    body = {"account_id": f"ACC-{n:06d}", "n": n, "pad": "x" * 982}
    return orjson.dumps(body)


async def aiokafka_produce(topic: str, values: list[bytes]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        start = time.perf_counter()
        futures = []
        for n, value in enumerate(values):
            futures.append(await producer.send(topic, value=value, key=f"ACC-{n % 5000}".encode()))
        await asyncio.gather(*futures)
        return time.perf_counter() - start
    finally:
        await producer.stop()


async def aiokafka_consume(topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest", group_id=f"{topic}-a",
        enable_auto_commit=False, max_partition_fetch_bytes=4 * 1024 * 1024,
    )  # fmt: skip
    await consumer.start()
    try:
        seen = 0
        start = time.perf_counter()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            seen += sum(len(r) for r in batches.values())
        return time.perf_counter() - start
    finally:
        await consumer.stop()


def confluent_produce(topic: str, values: list[bytes]) -> float:
    producer = Producer(
        {"bootstrap.servers": KAFKA, "enable.idempotence": True, "linger.ms": 5, "acks": "all"}
    )
    start = time.perf_counter()
    for n, value in enumerate(values):
        while True:
            try:
                producer.produce(topic, value=value, key=f"ACC-{n % 5000}".encode())
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    return time.perf_counter() - start


def confluent_consume(topic: str, count: int) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": KAFKA,
            "group.id": f"{topic}-c",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    start = time.perf_counter()
    while seen < count:
        seen += len([m for m in consumer.consume(num_messages=5000, timeout=1.0) if not m.error()])
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed


async def main() -> None:
    values = [one_kb_value(n) for n in range(COUNT)]
    a_topic, c_topic = await fresh_topic(), await fresh_topic()
    try:
        a_prod = await aiokafka_produce(a_topic, values)
        a_cons = await aiokafka_consume(a_topic, COUNT)
        c_prod = confluent_produce(c_topic, values)
        c_cons = confluent_consume(c_topic, COUNT)
    finally:
        await delete_topics([a_topic, c_topic])
    figures = {
        "messages": COUNT,
        "value_bytes": len(values[0]),
        "aiokafka_produce_msgs_per_s": round(COUNT / a_prod),
        "aiokafka_consume_msgs_per_s": round(COUNT / a_cons),
        "confluent_produce_msgs_per_s": round(COUNT / c_prod),
        "confluent_consume_msgs_per_s": round(COUNT / c_cons),
        "ratio_produce_confluent_over_aiokafka": round(a_prod / c_prod, 2),
        "ratio_consume_confluent_over_aiokafka": round(a_cons / c_cons, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    report("bus", figures)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
