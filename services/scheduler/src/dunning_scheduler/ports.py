"""What the use cases need from the outside world, as small protocols.

Tests pass in-memory versions of these (our own ports); production uses ``adapters.repository``
(PostgreSQL), ``adapters.kafka_publisher`` (Kafka) and ``adapters.rendering`` (Jinja).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from dunning_core.contracts.common import MessageContent
from dunning_core.contracts.events import Consumer, Debt, StepHeld, StepPlanned, StepWithdrawn

from dunning_scheduler.domain.case import Case, StepRecord
from dunning_scheduler.domain.planning import StepDraft


class CaseTransaction(Protocol):
    """One unit of work; it commits when its context exits without an error."""

    async def lock_due(self, now: datetime, limit: int) -> list[Case]:
        """Active cases due at ``now``, highest priority first, skipping rows others hold."""
        ...

    async def lock_promises_due(self, now: datetime, limit: int) -> list[Case]:
        """Cases paused by a promise to pay whose date has passed."""
        ...

    async def lock_deferred_due(self, now: datetime, limit: int) -> list[StepRecord]:
        """Deferred steps whose new send time has come (skipping ones locked elsewhere)."""
        ...

    async def lock_cases(self, account_ids: Sequence[str]) -> dict[str, Case]: ...

    async def load_steps(self, step_ids: Iterable[str]) -> dict[str, StepRecord]: ...

    async def save_cases(self, cases: Iterable[Case]) -> None: ...

    async def save_progress(self, cases: Iterable[Case]) -> None:
        """Save cases whose account snapshot did not change (the planner's write)."""
        ...

    async def save_steps(self, steps: Iterable[StepRecord]) -> None: ...


class CaseStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[CaseTransaction]: ...

    async def get_case(self, account_id: str) -> Case | None: ...

    async def steps_of(self, account_id: str, limit: int = 50) -> list[StepRecord]: ...

    async def stats(self) -> dict[str, Any]: ...


# What the scheduler says on ``outreach.planned.v1``: a plan, a hold or a withdrawal, with the
# traceparent it continues (None: a new trace).
Said = tuple[StepPlanned | StepHeld | StepWithdrawn, str | None]


class StepPublisher(Protocol):
    async def publish(self, planned: Sequence[Said]) -> None:
        """Publish every event (with its traceparent, or a new trace); wait for the broker."""
        ...


class MessageRenderer(Protocol):
    def render(self, draft: StepDraft, consumer: Consumer, debt: Debt) -> MessageContent:
        """The message of one step, in the consumer's language, with its disclosures."""
        ...
