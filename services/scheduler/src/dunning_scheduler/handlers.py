"""The consumer-loop handler: buffer the batch's events, apply them in one go on ``flush``.

``ConsumerLoop`` commits offsets only after ``flush`` returns, so a crash or a failed
transaction redelivers the batch, which the idempotent reactions absorb. An event the
domain cannot apply goes to ``<topic>.dlq`` with the error, like any poison record.
"""

from __future__ import annotations

import asyncio
import logging

from dunning_core.contracts.envelope import Envelope, encode
from dunning_core.contracts.topics import ACCOUNTS, DECISIONS, DELIVERY, PAYMENTS, SIGNALS, dlq
from dunning_core.runtime.kafka import EventProducer

from dunning_scheduler.service import HANDLED_EVENTS, ApplyResult, Scheduler

log = logging.getLogger(__name__)

TOPICS = (ACCOUNTS, PAYMENTS, DECISIONS, DELIVERY, SIGNALS)


class SchedulerHandler:
    def __init__(
        self, scheduler: Scheduler, producer: EventProducer, topic_prefix: str = ""
    ) -> None:
        self.scheduler = scheduler
        self.producer = producer
        self.topic_prefix = topic_prefix
        self._pending: list[Envelope] = []
        self.totals = ApplyResult()

    async def handle(self, envelope: Envelope) -> None:
        if isinstance(envelope.data, HANDLED_EVENTS):
            self._pending.append(envelope)

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        result = await self.scheduler.apply(batch)
        self.totals.changed_cases += result.changed_cases
        self.totals.replans += result.replans
        self.totals.ignored += result.ignored
        if result.rejected:
            await self._dead_letter(result)

    async def _dead_letter(self, result: ApplyResult) -> None:
        futures = []
        for rejected in result.rejected:
            key, value, headers = encode(rejected.envelope)
            headers.append(("dlq_error", rejected.error[:2000].encode()))
            topic = self.topic_prefix + dlq(rejected.envelope.data.topic)
            futures.append(await self.producer.send_raw(topic, key, value, headers))
        await asyncio.gather(*futures)
        self.totals.rejected.extend(result.rejected[-10:])
        del self.totals.rejected[:-10]
        log.error("events dead-lettered", extra={"count": len(result.rejected)})
