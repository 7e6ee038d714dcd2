# /// script
# requires-python = ">=3.11"
# dependencies = ["aiokafka==0.14.0"]
# ///
"""Produce/consume round trip against the local broker, on a throwaway topic it then deletes.

    uv run --script deploy/local/smoke.py [--messages 1000]

Prints one line with the figures; exits 1 if a message is lost, duplicated or reordered
within its key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import defaultdict

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

PARTITIONS = 3
KEYS = 10


async def round_trip(bootstrap: str, count: int) -> str:
    topic = f"smoke.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        t0 = time.perf_counter()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            sends = [
                await producer.send(
                    topic,
                    key=f"acct-{i % KEYS}".encode(),
                    value=str(i).encode(),
                    headers=[("ce_id", uuid.uuid4().hex.encode())],
                )
                for i in range(count)
            ]
            await asyncio.gather(*sends)
        finally:
            await producer.stop()
        produced_s = time.perf_counter() - t0

        t1 = time.perf_counter()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{topic}.group",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        seen: dict[str, list[int]] = defaultdict(list)
        try:
            received = 0
            deadline = time.monotonic() + 30
            while received < count and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        assert record.key is not None
                        assert record.value is not None
                        seen[record.key.decode()].append(int(record.value))
                        received += 1
            await consumer.commit()
        finally:
            await consumer.stop()
        consumed_s = time.perf_counter() - t1
    finally:
        await admin.delete_topics([topic])
        await admin.close()

    values = sorted(v for vs in seen.values() for v in vs)
    if values != list(range(count)):
        raise RuntimeError(f"expected {count} distinct messages, got {len(values)}")
    for key, vs in seen.items():
        if vs != sorted(vs):
            raise RuntimeError(f"messages of {key} arrived out of order")
    return (
        f"smoke ok: {count} messages over {PARTITIONS} partitions, {KEYS} keys; "
        f"produce {produced_s:.2f}s, consume (incl. group join) {consumed_s:.2f}s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Kafka produce/consume smoke test")
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    try:
        print(asyncio.run(round_trip(args.bootstrap, args.messages)))
    except Exception as exc:
        print(f"smoke failed: {exc!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
