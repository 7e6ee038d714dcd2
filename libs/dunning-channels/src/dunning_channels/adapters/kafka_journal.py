"""A journal of sends, parked retries and suppressions on Kafka: losing Redis loses none.

Redis holds the reservations, owners, suppressions and the retry schedule, fast and
shared; a compacted topic of the channel's own (``<prefix><channel>.journal``, made at
start if missing, kept 90 days) holds each parked item keyed by step id (a tombstone
once done), each send's intent (written and acknowledged before the provider is
called, with the step in flight: its approval and when to reconcile it; rewritten without
them, not waited for, once its outcome is settled), and each suppressed destination
(``journaled_records.JournaledSendRecords`` writes it first). Journals written before
intents carried the in-flight step hold it under keys of its own (``JournaledInFlight``,
kept for them and read still).
``JournaledRetryQueue`` parks in Redis, then journals (retried a few times: a journal
that fails during a broker's leader election must not lose a claimed retry), and, when it
finds Redis without
its mark (flushed, replaced, a fresh instance), puts back every parked item, the
suppressions, and the reservation and the owner of every step ever tried, before it
claims anything: a redelivered approval of a step sent before the loss is then a
duplicate, not a second message, a reply from its number finds its account, and a step
whose outcome was unknown is reconciled with the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from dunning_core.runtime.kafka import EventProducer
from dunning_core.runtime.kafka_admin import partitions_of
from redis.asyncio import Redis

from dunning_channels.adapters.redis_retries import RedisRetryQueue, dump, load
from dunning_channels.ports import Parked, SendRecords

log = logging.getLogger(__name__)

_KEEP_MS = 90 * 24 * 3600 * 1000
_INTENT = "intent:"
_SUPPRESSED = "suppressed:"
_INFLIGHT = "inflight:"
Tried = tuple[str, str]  # (destination, account id)


@dataclass
class JournalState:
    parked: dict[str, tuple[float, Parked]] = field(default_factory=dict)
    tried: dict[str, Tried] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)
    inflight: dict[str, tuple[float, Parked]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # of settled steps, by step id


@dataclass(eq=False)
class KafkaSendJournal:
    bootstrap: str
    producer: EventProducer
    topic: str
    replication: int = 1

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

    async def intend(self, item: Parked, reconcile_at: float) -> None:
        """Record that ``item``'s step is about to be sent, in flight until settled (to be
        reconciled at ``reconcile_at``), acknowledged by the broker."""
        await (await self._intent(item, {"due_at": reconcile_at, "item": dump(item).decode()}))

    async def settled(self, item: Parked, outcome: str | None = None) -> asyncio.Future[Any]:
        """Queue that ``item``'s step, tried, is no longer in flight, with its recorded
        outcome; the broker's acknowledgement (a lost one is also counted and logged)."""
        ack = await self._intent(item, {} if outcome is None else {"outcome": outcome})
        _noted(ack)
        return ack

    async def _intent(self, item: Parked, in_flight: dict[str, Any]) -> asyncio.Future[Any]:
        approval = item.approval
        tried = {"destination": approval.step.destination, "account_id": approval.account_id}
        value = orjson.dumps({**tried, "v": 2, **in_flight})
        return await self.producer.send_raw(
            self.topic, (_INTENT + item.step_id).encode(), value, []
        )

    async def in_flight(
        self, step_id: str, item: Parked | None, due_at: float = 0.0
    ) -> asyncio.Future[Any]:
        """Queue that ``step_id`` is in flight (``item``, to reconcile at ``due_at``) or
        settled (None); the broker's acknowledgement is the future returned."""
        key = (_INFLIGHT + step_id).encode()
        value = (
            None if item is None else orjson.dumps({"due_at": due_at, "item": dump(item).decode()})
        )
        return await self.producer.send_raw(self.topic, key, value, [])

    async def abandon(self, step_id: str) -> None:
        """Withdraw the intent of ``step_id`` (a tombstone), acknowledged by the broker."""
        key = (_INTENT + step_id).encode()
        await (await self.producer.send_raw(self.topic, key, None, []))

    async def suppression(self, destination: str, suppressed: bool) -> None:
        """Record that ``destination`` is (or no longer is) suppressed, acknowledged."""
        key = (_SUPPRESSED + destination.lower()).encode()
        await (await self.producer.send_raw(self.topic, key, b"1" if suppressed else None, []))

    async def read_all(self) -> JournalState:
        """Every item not done, every step tried (its destination and account) and every
        destination suppressed, from the start of the journal to its end now."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        state = JournalState()
        found, tried, suppressed = state.parked, state.tried, state.suppressed
        legacy: dict[str, tuple[float, Parked]] = {}  # in flight under keys of their own
        intents: set[str] = set()  # steps with an intent that says whether in flight
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
                        if key.startswith(_SUPPRESSED):
                            destination = key.removeprefix(_SUPPRESSED)
                            if record.value is None:
                                suppressed.discard(destination)
                            else:
                                suppressed.add(destination)
                            continue
                        if key.startswith(_INFLIGHT):
                            step = key.removeprefix(_INFLIGHT)
                            if record.value is None:
                                legacy.pop(step, None)
                            else:
                                data = orjson.loads(record.value)
                                legacy[step] = (
                                    float(data["due_at"]),
                                    load(data["item"].encode()),
                                )
                            continue
                        if key.startswith(_INTENT):
                            step = key.removeprefix(_INTENT)
                            state.inflight.pop(step, None)
                            state.outcomes.pop(step, None)
                            if record.value is None:  # withdrawn: never sent
                                tried.pop(step, None)
                                continue
                            sent = orjson.loads(record.value)
                            tried[step] = (
                                str(sent.get("destination", "")),
                                str(sent.get("account_id", "")),
                            )
                            if "v" in sent:
                                intents.add(step)
                            if "outcome" in sent:
                                state.outcomes[step] = str(sent["outcome"])
                            if "item" in sent:
                                state.inflight[step] = (
                                    float(sent["due_at"]),
                                    load(sent["item"].encode()),
                                )
                            continue
                        if record.value is None:
                            found.pop(key, None)
                            continue
                        data = orjson.loads(record.value)
                        found[key] = (float(data["due_at"]), load(data["item"].encode()))
        finally:
            await consumer.stop()
        for step, entry in legacy.items():
            if step not in intents:
                state.inflight[step] = entry
        return state

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            for _ in range(50):  # a topic made a moment ago may not be described yet
                if numbers := [tp.partition for tp in await partitions_of(admin, self.topic)]:
                    return numbers
                await asyncio.sleep(0.1)
        finally:
            await admin.close()
        # Never "nothing to restore" by mistake: the caller tries again later.
        raise KafkaError(f"no partitions known for {self.topic}")


@dataclass(eq=False)
class JournaledRetryQueue:
    """``RetryQueue`` in Redis, written through to a Kafka journal and restored from it."""

    queue: RedisRetryQueue
    journal: KafkaSendJournal
    records: SendRecords
    redis: Redis
    mark_key: str
    inflight: RedisRetryQueue | None = None
    journal_pauses_s: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0)
    restored: int = field(default=0, init=False)
    # the sends and the retries both ask
    _restoring: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def start(self) -> None:
        await self.journal.ensure_topic()
        await self.restore_if_lost()

    async def restore_if_lost(self) -> bool:
        """Put the journal back into Redis if Redis lost it; whether it had."""
        if await self.redis.exists(self.mark_key):
            return False
        async with self._restoring:
            if await self.redis.exists(self.mark_key):
                return False  # restored while this one waited
            return await self._restore()

    async def _restore(self) -> bool:
        state = await self.journal.read_all()
        items, tried = state.parked, state.tried
        for step_id in set(tried) | set(items):
            if (outcome := state.outcomes.get(step_id)) is not None and step_id not in items:
                await self.records.record(step_id, outcome)  # concluded: as it was recorded
            else:
                await self.records.reserve(step_id)  # tried or parked: never sent twice
        for destination, account_id in set(tried.values()):
            if destination and account_id:  # whose replies are whose
                await self.records.remember_owner(destination, account_id)
        for destination in state.suppressed:
            await self.records.suppress(destination)
        for due_at, item in items.values():
            await self.queue.park(item, due_at)
        if self.inflight is not None:
            for step_id, (due_at, item) in state.inflight.items():
                await self.records.reserve(step_id)
                await self.inflight.park(item, due_at)  # reconciled when due
        await self.redis.set(self.mark_key, b"1")
        self.restored += len(items)
        log.warning(
            "reservations, suppressions and retries restored from the journal",
            extra={
                "items": len(items),
                "tried": len(tried),
                "suppressed": len(state.suppressed),
                "in_flight": len(state.inflight),
            },
        )
        return True

    async def intend(self, item: Parked, reconcile_at: float) -> None:
        await self.journal.intend(item, reconcile_at)

    async def settled(self, item: Parked, outcome: str | None = None) -> asyncio.Future[Any]:
        return await self.journal.settled(item, outcome)

    async def abandon(self, step_id: str) -> None:
        await self.journal.abandon(step_id)

    async def park(self, item: Parked, due_at: float) -> None:
        # Redis first: it holds the item (a claimed one is no longer leased) whatever the
        # journal does. Raising after that would lose it: the retry runner would leave it,
        # a first try's batch would come back to find the step reserved.
        await self.queue.park(item, due_at)
        for pause in (*self.journal_pauses_s, None):
            try:
                await self.journal.write(item.step_id, item, due_at)
                return
            except Exception as exc:
                if pause is None:
                    log.warning(
                        "retry parked in Redis only: the journal write failed",
                        extra={"step_id": item.step_id, "error": repr(exc)},
                    )
                    return
                await asyncio.sleep(pause)

    async def claim(self, now: float, lease_s: float) -> Parked | None:
        await self.restore_if_lost()
        return await self.queue.claim(now, lease_s)

    async def done(self, step_id: str) -> None:
        await self.queue.done(step_id)
        await self.journal.write(step_id, None)

    async def size(self) -> int:
        return await self.queue.size()


_lost = {"count": 0, "logged_at": 0.0}


def _noted(ack: asyncio.Future[Any]) -> None:
    """Watch an unawaited journal write: a lost one is counted, and logged at most every
    30 s (a broker outage loses them by the thousand)."""

    def check(done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is None:
            return
        _lost["count"] += 1
        now = time.monotonic()
        if now - _lost["logged_at"] >= 30.0:
            _lost["logged_at"] = now
            log.warning(
                "in-flight journal writes lost",
                extra={"lost": _lost["count"], "error": repr(done.exception())},
            )

    ack.add_done_callback(check)


class JournaledInFlight:
    """The in-flight steps in Redis (``RedisRetryQueue`` named "inflight"), written through
    to the journal without waiting for the broker under keys of their own: the journal's
    former kind (the worker now journals them with each intent), kept for what wrote it."""

    def __init__(self, queue: RedisRetryQueue, journal: KafkaSendJournal) -> None:
        self.queue = queue
        self.journal = journal

    async def park(self, item: Parked, due_at: float) -> None:
        await self.queue.park(item, due_at)
        _noted(await self.journal.in_flight(item.step_id, item, due_at))

    async def done(self, step_id: str) -> None:
        await self.queue.done(step_id)
        _noted(await self.journal.in_flight(step_id, None))

    async def claim(self, now: float, lease_s: float) -> Parked | None:
        return await self.queue.claim(now, lease_s)

    async def holds(self, step_id: str) -> bool:
        return await self.queue.holds(step_id)

    async def size(self) -> int:
        return await self.queue.size()
