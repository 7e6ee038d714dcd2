"""Publishing ``step.planned.v1`` events on Kafka, all in flight at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import StepPlanned
from dunning_core.runtime.kafka import EventProducer
from dunning_core.runtime.tracing import step_traceparent

SERVICE = "scheduler"


class KafkaStepPublisher:
    def __init__(self, producer: EventProducer) -> None:
        self.producer = producer

    async def publish(self, planned: Sequence[tuple[StepPlanned, str | None]]) -> None:
        futures = []
        for event, traceparent in planned:
            envelope = wrap(
                event,
                SERVICE,
                time=event.planned_at,
                traceparent=traceparent or step_traceparent(event.step.step_id),
            )
            futures.append(await self.producer.send(envelope))
        if futures:
            await asyncio.gather(*futures)
