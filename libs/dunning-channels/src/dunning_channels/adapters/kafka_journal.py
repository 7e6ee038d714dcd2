"""A journal of sends and parked retries on Kafka, so that losing Redis loses neither.

Redis holds the reservations and the retry schedule, fast and shared; a compacted topic
of the channel's own (``<prefix><channel>.retries.journal``, made at start if missing,
kept 90 days) holds, keyed by step id, each parked item (a tombstone once done) and
each send's intent, written and acknowledged before the provider is called.
``JournaledRetryQueue`` writes the journal before Redis and, when it finds Redis without
its mark (flushed, replaced, a fresh instance), puts back every parked item, and the
reservation and the owner of every step ever tried, before it claims anything: a
redelivered approval of a step sent before the loss is then a duplicate, not a second
message, and a reply from its number finds its account.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from dunning_core.runtime.kafka import EventProducer
from redis.asyncio import Redis

from dunning_channels.adapters.redis_retries import RedisRetryQueue, dump, load
from dunning_channels.ports import Parked, SendRecords

log = logging.getLogger(__name__)

_KEEP_MS = 90 * 24 * 3600 * 1000
_INTENT = "intent:"
Tried = tuple[str, str]  # (destination, account id)


class KafkaRetryJournal:
    def __init__(
        self, bootstrap: str, producer: EventProducer, topic: str, replication: int = 1
    ) -> None:
        self.bootstrap = bootstrap
        self.producer = producer
        self.topic = topic
        self.replication = replication

    async def ensure_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            config = {
                "cleanup.policy": "compact,delete",
                "retention.ms": str(_KEEP_MS),  # as long as the reservations in Redis
                "min.compaction.lag.ms": "60000",
            }
            await admin.create_topics([NewTopic(self.topic, 3, self.replication, None, config)])
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()

    async def write(self, step_id: str, item: Parked | None, due_at: float = 0.0) -> None:
        """Record ``item`` due at ``due_at`` (None: done), acknowledged by the broker."""
        value = (
            None if item is None else orjson.dumps({"due_at": due_at, "item": dump(item).decode()})
        )
        await (await self.producer.send_raw(self.topic, step_id.encode(), value, []))

    async def intend(self, step_id: str, destination: str, account_id: str) -> None:
        """Record that ``step_id`` is about to be sent, acknowledged by the broker."""
        key = (_INTENT + step_id).encode()
        value = orjson.dumps({"destination": destination, "account_id": account_id})
        await (await self.producer.send_raw(self.topic, key, value, []))

    async def read_all(self) -> tuple[dict[str, tuple[float, Parked]], dict[str, Tried]]:
        """Every item not done, and every step tried (its destination and account), from
        the start of the journal to its end now."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        found: dict[str, tuple[float, Parked]] = {}
        tried: dict[str, Tried] = {}
        try:
            numbers = await self._partitions()
            partitions = [TopicPartition(self.topic, p) for p in sorted(numbers)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends: dict[Any, int] = await consumer.end_offsets(partitions)

            async def behind() -> bool:
                for tp, end in ends.items():
                    if await consumer.position(tp) < end:
                        return True
                return False

            while await behind():
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        key = record.key.decode()
                        if key.startswith(_INTENT):
                            sent = orjson.loads(record.value or b"{}")
                            tried[key.removeprefix(_INTENT)] = (
                                str(sent.get("destination", "")),
                                str(sent.get("account_id", "")),
                            )
                            continue
                        if record.value is None:
                            found.pop(key, None)
                            continue
                        data = orjson.loads(record.value)
                        found[key] = (float(data["due_at"]), load(data["item"].encode()))
        finally:
            await consumer.stop()
        return found, tried

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            for _ in range(50):  # a topic made a moment ago may not be described yet
                described = await admin.describe_topics([self.topic])
                numbers = [
                    int(p["partition"])
                    for t in described
                    if t["topic"] == self.topic and not t["error_code"]
                    for p in t["partitions"]
                ]
                if numbers:
                    return numbers
                await asyncio.sleep(0.1)
        finally:
            await admin.close()
        # Never "nothing to restore" by mistake: the caller tries again later.
        raise KafkaError(f"no partitions known for {self.topic}")


class JournaledRetryQueue:
    """``RetryQueue`` in Redis, written through to a Kafka journal and restored from it."""

    def __init__(
        self,
        queue: RedisRetryQueue,
        journal: KafkaRetryJournal,
        records: SendRecords,
        redis: Redis,
        mark_key: str,
    ) -> None:
        self.queue = queue
        self.journal = journal
        self.records = records
        self.redis = redis
        self.mark_key = mark_key
        self.restored = 0

    async def start(self) -> None:
        await self.journal.ensure_topic()
        await self.restore_if_lost()

    async def restore_if_lost(self) -> bool:
        """Put the journal back into Redis if Redis lost it; whether it had."""
        if await self.redis.exists(self.mark_key):
            return False
        items, tried = await self.journal.read_all()
        for step_id in set(tried) | set(items):
            await self.records.reserve(step_id)  # tried or parked: never sent twice
        for destination, account_id in set(tried.values()):
            if destination and account_id:  # whose replies are whose
                await self.records.remember_owner(destination, account_id)
        for due_at, item in items.values():
            await self.queue.park(item, due_at)
        await self.redis.set(self.mark_key, b"1")
        self.restored += len(items)
        log.warning(
            "reservations and retries restored from the journal",
            extra={"items": len(items), "reservations": len(tried)},
        )
        return True

    async def intend(self, step_id: str, destination: str, account_id: str) -> None:
        await self.journal.intend(step_id, destination, account_id)

    async def park(self, item: Parked, due_at: float) -> None:
        await self.journal.write(item.step_id, item, due_at)
        await self.queue.park(item, due_at)

    async def claim(self, now: float, lease_s: float) -> Parked | None:
        await self.restore_if_lost()
        return await self.queue.claim(now, lease_s)

    async def done(self, step_id: str) -> None:
        await self.queue.done(step_id)
        await self.journal.write(step_id, None)

    async def size(self) -> int:
        return await self.queue.size()
