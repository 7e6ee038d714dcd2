"""Publishing what the scheduler says on ``outreach.planned.v1`` (plans, holds, withdrawals),
all in flight at once.

Each plan is the root span of its step's trace (``scheduler.plan``, its trace id derived
from the step id), or a child of the trace a re-plan continues; a hold or a withdrawal is a
span of its step's trace too."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import StepHeld, StepPlanned
from dunning_core.runtime.kafka import EventProducer
from dunning_core.runtime.metrics import STEPS
from dunning_core.runtime.tracing import span, step_traceparent

from dunning_scheduler.domain.holds import said_at
from dunning_scheduler.ports import Said

SERVICE = "scheduler"
_SPANS = {"planned": "scheduler.plan", "held": "scheduler.hold", "withdrawn": "scheduler.withdraw"}


class KafkaStepPublisher:
    def __init__(self, producer: EventProducer) -> None:
        self.producer = producer
        self.counted = {k: STEPS.labels(k, "") for k in ("planned", "held", "withdrawn")}

    async def publish(self, planned: Sequence[Said]) -> None:
        futures = []
        for event, traceparent in planned:
            if isinstance(event, StepPlanned):
                step_id, outcome = event.step.step_id, "planned"
            else:
                step_id = event.step_id
                outcome = "held" if isinstance(event, StepHeld) else "withdrawn"
            at = said_at(event)
            with span(
                _SPANS[outcome],
                traceparent or step_traceparent(step_id),
                {"dunning.step_id": step_id},
            ) as current:
                envelope = wrap(event, SERVICE, time=at, traceparent=current)
                futures.append(await self.producer.send(envelope))
            self.counted[outcome].inc()
        if futures:
            await asyncio.gather(*futures)
