"""The idempotent producer of our events, and how it comes back after a fatal error.

``EventProducer`` sends envelopes (or raw records) with idempotence on (acks=all). An
idempotent producer that the broker answered with a fatal error (its sequence numbers or
producer id no longer match the broker's, as after a broker restart lost its state) fails
every later send: the next send closes it and starts a new one. The trace context in
the headers is the span in progress when it continues the event's trace; each delivery
report sent counts in ``dunning_deliveries_total``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)

from dunning_core.contracts.envelope import Envelope, encode
from dunning_core.contracts.events import DeliveryUpdated, StepApproved
from dunning_core.runtime.errors import quiet_repeats
from dunning_core.runtime.metrics import DELIVERIES
from dunning_core.runtime.tracing import outgoing

log = logging.getLogger(__name__)


def topic_for(envelope: Envelope) -> str:
    data = envelope.data
    return data.target_topic() if isinstance(data, StepApproved) else data.topic


# Errors after which an idempotent producer is unusable: aiokafka fails every pending and
# later send with them (its sender task has ended). Only a new producer (a new producer id,
# sequences from 0) sends again; the caller's batch is redone and dedupe absorbs the repeat.
FATAL_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    ProducerFenced,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    UnknownProducerId,
)


def is_fatal_for_producer(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it wraps) means the producer that raised it is dead."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, FATAL_PRODUCER_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class EventProducer:
    """Publishes envelopes, keyed by account id, with idempotence and batching on.

    When the broker answers with an error that kills an idempotent producer (see
    ``FATAL_PRODUCER_ERRORS``) the next send closes it and starts a new one: the sends that
    failed are the caller's to redo (a consumer loop hands its batch back)."""

    def __init__(
        self, bootstrap: str, client_id: str, topic_prefix: str = "", linger_ms: int = 5
    ) -> None:
        self.topic_prefix = topic_prefix
        quiet_repeats()
        self._settings: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "max_batch_size": 256 * 1024,
            "compression_type": None,
            "request_timeout_ms": 30_000,
        }
        self._producer = AIOKafkaProducer(**self._settings)
        self._broken: BaseException | None = None
        self._started = False
        self._rebuilding = asyncio.Lock()
        self.rebuilds = 0

    async def start(self) -> None:
        await self._producer.start()
        self._started = True

    async def stop(self) -> None:
        self._started = False
        await self._producer.stop()

    @property
    def broken(self) -> bool:
        return self._broken is not None

    def _watch(self, fut: asyncio.Future[Any]) -> asyncio.Future[Any]:
        sender = self._producer

        def check(done: asyncio.Future[Any]) -> None:
            if done.cancelled() or sender is not self._producer:
                return  # a send of a producer already replaced says nothing of the new one
            exc = done.exception()
            if exc is not None and is_fatal_for_producer(exc):
                self._broken = exc

        fut.add_done_callback(check)
        return fut

    async def rebuild(self) -> None:
        """Replace the producer by a new one (the old one is closed, its sends failed)."""
        async with self._rebuilding:
            if self._broken is None or not self._started:
                return
            old, error = self._producer, self._broken
            log.warning(
                "producer rebuilt", extra={"error": f"{type(error).__name__}: {error}"[:300]}
            )
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.stop(), 10)
            fresh = AIOKafkaProducer(**self._settings)
            await fresh.start()  # a failure here leaves it broken: the next send tries again
            self._producer, self._broken = fresh, None
            self.rebuilds += 1

    async def send_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> asyncio.Future[Any]:
        """Queue one record to exactly this topic (no prefix added); the future as for `send`."""
        for attempt in range(2):
            if self._broken is not None:
                await self.rebuild()
            try:
                fut: asyncio.Future[Any] = await self._producer.send(
                    topic, value=value, key=key, headers=list(headers)
                )
            except FATAL_PRODUCER_ERRORS as exc:
                # Nothing of this record was queued: on a new producer it can be.
                self._broken = exc
                if attempt:
                    raise
                continue
            return self._watch(fut)
        raise AssertionError("unreachable")

    async def send(self, envelope: Envelope, topic: str | None = None) -> asyncio.Future[Any]:
        """Queue one envelope; the returned future resolves when the broker has it."""
        # The span in progress (a consumer's processing span) becomes the next hop's parent.
        key, value, headers = encode(envelope, outgoing(envelope.traceparent))
        data = envelope.data
        if isinstance(data, DeliveryUpdated):
            DELIVERIES.labels(data.channel.value, data.status.value).inc()
        target = self.topic_prefix + (topic or topic_for(envelope))
        return await self.send_raw(target, key, value, headers)

    async def publish(self, envelopes: Iterable[Envelope]) -> None:
        """Send envelopes and wait until the broker acknowledged every one."""
        futures = [await self.send(e) for e in envelopes]
        if futures:
            await asyncio.gather(*futures)

    async def flush(self) -> None:
        await self._producer.flush()
