"""What sending an approval needs from the outside, as small protocols.

Adapters implement them (``adapters.redis_records``, the channels' provider senders,
``dunning_core``'s ``EventProducer``); tests pass in-memory fakes of these, never mocks
of the libraries behind them.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import OutreachStep
from dunning_core.runtime.clock import Clock

from dunning_channels.domain.outcomes import Provider, SendOutcome

__all__ = [
    "Clock",
    "Publisher",
    "Recipients",
    "Reservations",
    "SendRecords",
    "Sender",
    "Suppressions",
]


class Sender(Protocol):
    """A provider adapter. Raises ``TransientError`` when nothing was sent and a retry may
    succeed, ``AmbiguousSend`` when the provider may have the message already."""

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
