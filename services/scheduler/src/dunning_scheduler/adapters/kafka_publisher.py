"""Publishing ``step.planned.v1`` events on Kafka, all in flight at once.

Each plan is the root span of its step's trace (``scheduler.plan``, its trace id derived
from the step id), or a child of the trace a re-plan continues."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import StepPlanned
from dunning_core.runtime.kafka import EventProducer
from dunning_core.runtime.metrics import STEPS
from dunning_core.runtime.tracing import span, step_traceparent

SERVICE = "scheduler"


class KafkaStepPublisher:
    def __init__(self, producer: EventProducer) -> None:
        self.producer = producer

    async def publish(self, planned: Sequence[tuple[StepPlanned, str | None]]) -> None:
        futures = []
        planned_steps = STEPS.labels("planned", "")
        for event, traceparent in planned:
            step_id = event.step.step_id
            with span(
                "scheduler.plan",
                traceparent or step_traceparent(step_id),
                {"dunning.step_id": step_id},
            ) as current:
                envelope = wrap(event, SERVICE, time=event.planned_at, traceparent=current)
                futures.append(await self.producer.send(envelope))
            planned_steps.inc()
        if futures:
            await asyncio.gather(*futures)
