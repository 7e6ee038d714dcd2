"""Producing and consuming our events on Kafka with at-least-once, idempotent semantics.

``EventProducer`` (``producer.py``) sends envelopes with idempotence on (acks=all); a batch
that failed because its producer died is redone on a new one. ``ConsumerLifecycle`` is
one group member's start/fetch/stop loop around a ``process(batches)`` hook. ``ConsumerLoop``
is the plain one: it reads in batches, skips ``ce_id`` values already handled, hands each
event to a ``Handler``, asks the handler to make its effects durable (``flush``), and only
then commits offsets. A record that can never be handled goes to ``<topic>.dlq``.

No error of the broker, Redis or the database ends a loop: anywhere in a cycle (fetch,
dedupe lookup, handler, flush, dead-letter, mark, commit) it is retried with capped
exponential backoff and jitter, in place or by handing the batch back; an outage is logged
when it starts, reminded and ends (``errors.Outage``), and shows on the loop's health.

Each event is handled inside a processing span that continues the trace its record
carries (``tracing.consuming``; nothing when no SDK is on); the handler latency, retries,
dead letters and each partition's lag as of the last fetch are Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from dunning_core.contracts.envelope import Envelope, EnvelopeError, decode
from dunning_core.contracts.topics import dlq
from dunning_core.runtime.dedupe import DedupeStore, MemoryDedupe
from dunning_core.runtime.errors import Backoff as Backoff
from dunning_core.runtime.errors import Outage, PermanentError, is_transient, quiet_repeats
from dunning_core.runtime.metrics import CONSUMER_LAG, DEAD_LETTERS, HANDLER_SECONDS, RETRIES
from dunning_core.runtime.producer import EventProducer as EventProducer
from dunning_core.runtime.producer import is_fatal_for_producer
from dunning_core.runtime.producer import topic_for as topic_for
from dunning_core.runtime.tracing import consuming

log = logging.getLogger(__name__)

Batches = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


async def dead_letter(
    producer: EventProducer,
    dead: Sequence[tuple[ConsumerRecord[Any, Any], str]],
    group_id: str,
) -> None:
    """Park records on ``<topic>.dlq`` with the error and where they came from, and wait
    until the broker has them."""
    futures = []
    for record, error in dead:
        headers = [
            *record.headers,
            ("dlq_error", error[:2000].encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_group", group_id.encode()),
        ]
        DEAD_LETTERS.labels(record.topic, group_id).inc()
        log.error(
            "dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "error": error[:300]},
        )
        futures.append(
            await producer.send_raw(dlq(record.topic), record.key, record.value, headers)
        )
    await asyncio.gather(*futures)


class Handler(Protocol):
    """Handles events one by one; ``flush`` makes the effects of the batch durable."""

    async def handle(self, envelope: Envelope) -> None: ...

    async def flush(self) -> None: ...


@dataclass
class LoopStats:
    handled: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    batches: int = 0
    last_batch_at: float = 0.0
    errors: list[str] = field(default_factory=list)


class ConsumerLifecycle(ABC):
    """One consumer group member's lifecycle: start, fetch, ``process``, stop.

    Subclasses say what a batch means (``process``); this class owns the loop around it.
    When ``process`` raises, nothing of the batch was committed: the batch is handed back
    (each partition rewound to its first record) and fetched again after a backoff.
    """

    stats: LoopStats
    process_empty = False
    """Whether ``process`` is called when a fetch returned nothing."""
    hand_back_failed_batches = True
    """Whether a batch whose ``process`` raised is retried (else the loop ends)."""

    def __init__(
        self,
        *,
        consumer: Callable[[], AIOKafkaConsumer],
        group_id: str,
        producer: EventProducer,
        max_records: int,
        backoff: Backoff | None = None,
        outage_reminder_s: float = 30.0,
    ) -> None:
        self.group_id = group_id
        self.outage = Outage(f"consumer:{group_id}", log, remind_every=outage_reminder_s)
        quiet_repeats(interval=outage_reminder_s)
        self.producer = producer
        self.max_records = max_records
        self.backoff = backoff or Backoff()
        self.stats = LoopStats()
        self.last_error: str | None = None
        self.running = False
        self._stopping = asyncio.Event()
        # A stopped aiokafka consumer cannot start again: a restart builds a new one.
        self._make_consumer = consumer
        self._consumer = consumer()
        self._started_once = False
        self._failures = 0  # consecutive failed batches, for the backoff
        self._retries_metric = RETRIES.labels("consumer", group_id)

    async def start(self) -> None:
        """Start consuming; after a ``stop`` (a supervisor restarting the loop), anew."""
        if self._started_once:
            self._consumer = self._make_consumer()
            self._stopping.clear()
        self._started_once = True
        await self._consumer.start()
        self.running = True

    def request_stop(self) -> None:
        self._stopping.set()

    async def stop(self) -> None:
        self.request_stop()
        if self.running:
            self.running = False
            await self._consumer.stop()

    async def run(self) -> None:
        """Consume until ``request_stop``; the batch in hand is finished and committed."""
        try:
            while not self._stopping.is_set():
                batches: Batches = {}
                try:
                    self.before_fetch()
                    batches = await self._consumer.getmany(
                        timeout_ms=200, max_records=self.max_records
                    )
                    with contextlib.suppress(Exception):  # a gauge never fails a batch
                        self.observe_lag(batches)
                    if not batches and not self.process_empty:
                        continue
                    await self.process(batches)
                except Exception as exc:
                    if self._stopping.is_set():
                        log.info("stopped with a batch unfinished", extra={"error": str(exc)})
                        break
                    if not self.hand_back_failed_batches:
                        raise
                    await self._batch_failed(batches, exc)
                else:
                    self._failures = 0
                    self.last_error = None
                    self.outage.recovered()
        finally:
            await self.stop()

    def before_fetch(self) -> None:  # noqa: B027 - an optional hook
        """Called before every fetch (e.g. to pause what cannot be used yet)."""

    @abstractmethod
    async def process(self, batches: Batches) -> None:
        """Handle one fetched batch and commit its offsets."""

    def observe_lag(self, batches: Batches) -> None:
        """Each fetched partition's lag behind its high watermark; after an empty fetch,
        every partition read (not paused) has caught up."""
        consumer = self._consumer
        if batches:
            for tp, records in batches.items():
                end = consumer.highwater(tp)
                if records and end is not None:
                    lag = max(0, end - records[-1].offset - 1)
                    CONSUMER_LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(lag)
            return
        paused = consumer.paused()
        for tp in consumer.assignment():
            if tp not in paused:
                CONSUMER_LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(0)

    def count_retry(self) -> None:
        self.stats.retries += 1
        self._retries_metric.inc()

    async def _batch_failed(self, batches: Batches, exc: Exception) -> None:
        self.count_retry()
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.on_failure(exc)
        # Not one line per failure: the outage logs its start, reminders and its end.
        if is_transient(exc):
            log.debug("batch failed, retrying", extra={"error": self.last_error})
        else:
            log.warning("batch failed, retrying", extra={"error": self.last_error})
        self.outage.failed(exc)
        self.rewind(batches)
        producer = self.producer
        if isinstance(producer, EventProducer) and (is_fatal_for_producer(exc) or producer.broken):
            # The batch is redone from its first record on a new producer.
            try:
                await producer.rebuild()
            except Exception as rebuild_error:  # the broker is away: the next send retries
                log.debug("producer rebuild failed", extra={"error": str(rebuild_error)})
        await asyncio.sleep(self.backoff.delay(min(self._failures, 6)))
        self._failures += 1

    def on_failure(self, exc: Exception) -> None:  # noqa: B027 - an optional hook
        """Called when a batch failed, before it is handed back."""

    def rewind(self, batches: Batches) -> None:
        """Hand a batch back: its partitions are read again from their first record."""
        assignment = self._consumer.assignment()
        for tp, records in batches.items():
            if records and tp in assignment:
                self._consumer.seek(tp, records[0].offset)

    async def dead_letter(self, dead: Sequence[tuple[ConsumerRecord[Any, Any], str]]) -> None:
        await dead_letter(self.producer, dead, self.group_id)
        self.stats.dead_lettered += len(dead)

    def health(self) -> dict[str, Any]:
        """Running, counters, and the outage in progress (``None`` when there is none)."""
        s = self.stats
        return {
            "ok": self.running and not self.outage.active,
            "handled": s.handled,
            "duplicates": s.duplicates,
            "dead_lettered": s.dead_lettered,
            "retries": s.retries,
            "last_error": self.last_error,
            "outage": self.outage.report(),
        }


def decode_batch(
    records: Iterable[ConsumerRecord[Any, Any]],
    decoded: list[tuple[ConsumerRecord[Any, Any], Envelope]],
    dead: list[tuple[ConsumerRecord[Any, Any], str]],
) -> None:
    """Decode records into ``decoded``; those that are not our events go to ``dead``."""
    for record in records:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        try:
            decoded.append((record, decode(record.key, record.value, record.headers, where=where)))
        except EnvelopeError as exc:
            dead.append((record, str(exc)))


class ConsumerLoop(ConsumerLifecycle):
    """Events one by one: batch in, dedupe, handle, flush, dead-letter, commit."""

    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        producer: EventProducer,
        dedupe: DedupeStore | None = None,
        topic_prefix: str = "",
        max_records: int = 500,
        backoff: Backoff | None = None,
        auto_offset_reset: str = "earliest",
        outage_reminder_s: float = 30.0,
    ) -> None:
        self.topics = [topic_prefix + t for t in topics]
        super().__init__(
            consumer=lambda: AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=bootstrap,
                group_id=group_id,
                enable_auto_commit=False,
                auto_offset_reset=auto_offset_reset,
                max_poll_records=max_records,
                fetch_max_wait_ms=100,
                session_timeout_ms=30_000,
                heartbeat_interval_ms=3_000,
                max_poll_interval_ms=600_000,
            ),
            group_id=group_id,
            producer=producer,
            max_records=max_records,
            backoff=backoff,
            outage_reminder_s=outage_reminder_s,
        )
        self.handler = handler
        self.dedupe = dedupe or MemoryDedupe()
        self._latency = HANDLER_SECONDS.labels(group_id)

    async def process(self, batches: Batches) -> None:
        decoded: list[tuple[ConsumerRecord[Any, Any], Envelope]] = []
        dead: list[tuple[ConsumerRecord[Any, Any], str]] = []
        for records in batches.values():
            decode_batch(records, decoded, dead)
        unseen = await self._retrying(self.dedupe.unseen, [e.id for _, e in decoded])
        handled_ids: list[str] = []
        for record, envelope in decoded:
            if envelope.id not in unseen:
                self.stats.duplicates += 1
                continue
            unseen.discard(envelope.id)  # a duplicate later in the same batch is skipped
            error = await self._handle(record, envelope)
            if error is None:
                handled_ids.append(envelope.id)
            else:
                dead.append((record, error))
        # If the flush fails the batch's effects are not durable: the error hands the whole
        # batch back for redelivery (see ``ConsumerLifecycle.run``).
        await self.handler.flush()
        if dead:
            await self.dead_letter(dead)
        await self._retrying(self.dedupe.mark, handled_ids)
        offsets = {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
        await self._retrying(self._consumer.commit, offsets)
        self.stats.handled += len(handled_ids)
        self.stats.batches += 1
        self.stats.last_batch_at = time.monotonic()

    async def _handle(self, record: ConsumerRecord[Any, Any], envelope: Envelope) -> str | None:
        began = time.perf_counter()
        try:
            with consuming(
                record.topic, self.group_id, envelope.traceparent, envelope.type, envelope.id
            ):
                return await self._handle_retrying(record, envelope)
        finally:
            self._latency.observe(time.perf_counter() - began)

    async def _handle_retrying(
        self, record: ConsumerRecord[Any, Any], envelope: Envelope
    ) -> str | None:
        attempt = 0
        while True:
            try:
                await self.handler.handle(envelope)
                return None
            except PermanentError as exc:
                return f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                if is_fatal_for_producer(exc):
                    raise  # not this input's fault: the batch is redone on a new producer
                if not is_transient(exc):  # a bug on this input: park it, move on
                    log.exception(
                        "handler failed", extra={"topic": record.topic, "offset": record.offset}
                    )
                    return f"{type(exc).__name__}: {exc}"
                if self._stopping.is_set():
                    raise
                self.count_retry()
                self.outage.failed(exc)
                await asyncio.sleep(self.backoff.delay(min(attempt, 8)))
                attempt += 1

    async def _retrying(self, fn: Any, *args: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await fn(*args)
            except Exception as exc:
                if not is_transient(exc) or (self._stopping.is_set() and attempt > 3):
                    raise
                self.count_retry()
                self.outage.failed(exc)
                await asyncio.sleep(self.backoff.delay(min(attempt, 8)))
                attempt += 1
