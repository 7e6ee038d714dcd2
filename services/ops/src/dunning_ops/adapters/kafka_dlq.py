"""The dead-letter topics (``<topic>.dlq`` of every event topic) read and replayed over Kafka.

A consumer without a group (it commits nothing and moves no one's offsets) measures each
queue (end offset less start offset) and reads records by position; a producer puts a record
back on the topic it came from, with its key, value and headers as they were (less the
``dlq_*`` headers the consumer loop added). Consumers dedupe by event id, so replaying a
record that was handled after all changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from dunning_core.contracts.topics import ALL_TOPICS, dlq

from dunning_ops.ports import DeadLetter, DeadQueue

log = logging.getLogger(__name__)

QUEUES = tuple(dlq(t) for t in ALL_TOPICS)
READ_S = 20.0  # at most this long to read a queue (a loaded broker answers slowly)


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", errors="replace")


class KafkaDeadLetters:
    def __init__(self, bootstrap: str, prefix: str, client_id: str = "ops") -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.client_id = client_id
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()  # the offsets consumer: one caller at a time

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-dlq",
            group_id=None,
            enable_auto_commit=False,
        )
        await self._consumer.start()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-replay",
            acks="all",
            enable_idempotence=True,
        )
        await self._producer.start()
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-admin"
        )
        await self._admin.start()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        if self._admin is not None:
            await self._admin.close()

    def _known(self, topic: str) -> str:
        if topic not in QUEUES:
            raise KeyError(f"{topic!r} is not a dead-letter topic (one of: {', '.join(QUEUES)})")
        return self.prefix + topic

    async def _partitions(self, consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
        # The consumer's own metadata knows only topics it was assigned: ask the cluster.
        assert self._admin is not None
        [found] = await self._admin.describe_topics([topic])
        parts = sorted(int(p["partition"]) for p in found.get("partitions", []))
        return [TopicPartition(topic, p) for p in parts]

    async def queues(self) -> list[DeadQueue]:
        assert self._consumer is not None
        async with self._lock:
            found = []
            for topic in QUEUES:
                parts = await self._partitions(self._consumer, self.prefix + topic)
                if not parts:
                    found.append(DeadQueue(topic, 0))
                    continue
                starts = await self._consumer.beginning_offsets(parts)
                ends = await self._consumer.end_offsets(parts)
                found.append(DeadQueue(topic, sum(ends[p] - starts[p] for p in parts)))
            return found

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[AIOKafkaConsumer]:
        """A consumer of its own for one read: no fetch state or prefetched records of an
        earlier read can hide a record (a long-lived one did, now and then)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}-dlq-read",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            yield consumer
        finally:
            await consumer.stop()

    async def _read(self, parts: list[TopicPartition], limit: int) -> list[Any]:
        records: list[Any] = []
        async with self._reader() as consumer:
            consumer.assign(parts)
            ends = await consumer.end_offsets(parts)
            await consumer.seek_to_beginning(*parts)
            # An empty fetch is not the end (the first one after a seek may come back empty):
            # read until every partition is at its end offset, or the time is up.
            deadline = time.monotonic() + READ_S
            while len(records) < limit:
                positions = {p: await consumer.position(p) for p in parts}
                if all(positions[p] >= ends[p] for p in parts):
                    break
                if time.monotonic() >= deadline:
                    log.warning(
                        "dead letters read in part: time is up",
                        extra={"topic": parts[0].topic, "read": len(records)},
                    )
                    break
                batch = await consumer.getmany(*parts, timeout_ms=1000, max_records=limit)
                for part_records in batch.values():
                    records.extend(part_records)
        return records[:limit]

    async def letters(self, topic: str, limit: int) -> list[DeadLetter]:
        name = self._known(topic)
        assert self._consumer is not None
        async with self._lock:
            parts = await self._partitions(self._consumer, name)
        if not parts:
            return []
        records = await self._read(parts, limit)
        letters = []
        for r in records:
            headers = {k: _text(v) for k, v in (r.headers or ())}
            letters.append(
                DeadLetter(
                    topic=topic,
                    partition=r.partition,
                    offset=r.offset,
                    key=_text(r.key) if r.key is not None else None,
                    error=headers.get("dlq_error", ""),
                    source=f"{headers.get('dlq_topic', '?')}:{headers.get('dlq_partition', '?')}"
                    f":{headers.get('dlq_offset', '?')}",
                    group=headers.get("dlq_group", ""),
                    headers={k: v for k, v in headers.items() if not k.startswith("dlq_")},
                    value=_text(r.value)[:20_000],
                )
            )
        return letters

    async def replay(self, topic: str, partition: int, offset: int) -> str:
        name = self._known(topic)
        assert self._consumer is not None
        assert self._producer is not None
        part = TopicPartition(name, partition)
        found: list[Any] = []
        async with self._reader() as consumer:
            consumer.assign([part])
            ends = await consumer.end_offsets([part])
            if offset < ends[part]:
                consumer.seek(part, offset)
                deadline = time.monotonic() + READ_S
                while not found and time.monotonic() < deadline:
                    batch = await consumer.getmany(part, timeout_ms=1000, max_records=1)
                    found = [r for rs in batch.values() for r in rs if r.offset == offset]
        if not found:
            raise LookupError(f"no record at {topic}:{partition}:{offset}")
        record = found[0]
        headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq_")]
        origin = dict(record.headers or ()).get("dlq_topic")
        target = _text(origin) if origin else name.removesuffix(".dlq")
        await self._producer.send_and_wait(
            target, value=record.value, key=record.key, headers=headers
        )
        return target.removeprefix(self.prefix)
