"""What sending an approval needs from the outside, as small protocols.

Adapters implement them (``adapters.redis_records``, the channels' provider senders,
``dunning_core``'s ``EventProducer``); tests pass in-memory fakes of these, never mocks
of the libraries behind them.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import OutreachStep, StepApproved
from dunning_core.runtime.clock import Clock

from dunning_channels.domain.outcomes import Provider, SendOutcome

__all__ = [
    "Clock",
    "DeadLetters",
    "Parked",
    "Publisher",
    "Recipients",
    "Reservations",
    "RetryQueue",
    "SendRecords",
    "Sender",
    "Suppressions",
]


class Sender(Protocol):
    """A provider adapter. Answers ``Unavailable`` (or raises ``TransientError``) when
    nothing was sent and a retry may succeed, raises ``AmbiguousSend`` when the provider
    may have the message already."""

    @property
    def provider(self) -> Provider: ...

    async def send(self, account_id: str, step: OutreachStep) -> SendOutcome: ...


class Reservations(Protocol):
    """Which steps were sent: a step is reserved before its send, recorded after."""

    async def reserve(self, step_id: str) -> str | None:
        """Reserve a step for sending; None if newly reserved, else what is recorded."""
        ...

    async def record(self, step_id: str, provider_message_id: str) -> None: ...

    async def release(self, step_id: str) -> None: ...


class Recipients(Protocol):
    """Which accounts a destination was sent for (an inbound reply names only its sender)."""

    async def remember_owner(self, destination: str, account_id: str) -> None: ...

    async def owners(self, destination: str) -> set[str]: ...


class Suppressions(Protocol):
    """Destinations that opted out since the gate approved: never sent to."""

    async def suppress(self, destination: str) -> None: ...

    async def unsuppress(self, destination: str) -> None: ...

    async def is_suppressed(self, destination: str) -> bool: ...


class SendRecords(Reservations, Recipients, Suppressions, Protocol):
    """All three, as one store keeps them."""


class Publisher(Protocol):
    """Queues an envelope; the awaitable it returns resolves once the broker has it."""

    async def send(self, envelope: Envelope, topic: str | None = None) -> Awaitable[Any]: ...


@dataclass(frozen=True)
class Parked:
    """An approval waiting for its next try: its envelope as received, the provider calls
    made so far, when the first was made (wall seconds) and what the last one said."""

    envelope: Envelope
    attempts: int
    first_attempt_at: float
    last_error: str = ""

    @property
    def step_id(self) -> str:
        data = self.envelope.data
        return data.step.step_id if isinstance(data, StepApproved) else self.envelope.id


class RetryQueue(Protocol):
    """Approvals waiting for a retry, durable across restarts and shared by replicas."""

    async def park(self, item: Parked, due_at: float) -> None:
        """Keep ``item`` until ``due_at`` (wall seconds)."""
        ...

    async def claim(self, now: float, lease_s: float) -> Parked | None:
        """One due item, leased to the caller for ``lease_s`` (it comes back if the caller
        dies); None when nothing is due."""
        ...

    async def done(self, step_id: str) -> None: ...

    async def size(self) -> int: ...


class DeadLetters(Protocol):
    """Parks an approval that can never be sent on its topic's dead-letter topic."""

    async def dead_letter(self, envelope: Envelope, reason: str) -> Awaitable[Any]: ...
