"""What sending an approval needs from the outside, as small protocols.

Adapters implement them (``adapters.redis_records``, the channels' provider senders,
``dunning_core``'s ``EventProducer``); tests pass in-memory fakes of these, never mocks
of the libraries behind them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import OutreachStep, StepApproved
from dunning_core.runtime.clock import Clock

from dunning_channels.domain.outcomes import Provider, SendOutcome
from dunning_channels.domain.pacing import Rate
from dunning_channels.domain.reconcile import Lookup

__all__ = [
    "Admission",
    "Clock",
    "DeadLetters",
    "InFlight",
    "Pacer",
    "Pacing",
    "Parked",
    "Publisher",
    "Recipients",
    "Reservations",
    "RetryQueue",
    "SendJournal",
    "SendRecords",
    "SendSteps",
    "Sender",
    "Suppressions",
]


class Sender(Protocol):
    """A provider adapter. Answers ``Unavailable`` (or raises ``TransientError``) when
    nothing was sent and a retry may succeed, raises ``AmbiguousSend`` when the provider
    may have the message already."""

    @property
    def provider(self) -> Provider: ...

    def sender_id(self, step: OutreachStep) -> str:
        """Who the message is sent as (a number, a messaging service, an address)."""
        ...

    async def find(self, account_id: str, step: OutreachStep, since: float) -> Lookup:
        """Ask the provider whether it has ``step``'s message, sent no earlier than
        ``since`` (wall seconds): its id, not there, or no answer."""
        ...

    async def send(
        self, account_id: str, step: OutreachStep, timeout_s: float | None = None
    ) -> SendOutcome:
        """Send ``step``; ``timeout_s`` (wall seconds) bounds the call when set, below the
        adapter's own timeout (a call cut after the request left is ``AmbiguousSend``)."""
        ...


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

    async def any_suppressed(self, keys: Sequence[str]) -> bool:
        """Whether any of ``keys`` (destinations, ``domain.account_keys``) is suppressed."""
        ...


class Calls(Protocol):
    """Provider calls on the wire, by the suppression keys that would have stopped them.

    A call is begun under its keys by the same step that checks they are not suppressed
    (``SendSteps.arm``), and ended when the provider answered or the call failed. So once a
    suppression is set, the calls ``calling`` counts are all the calls that can still
    reach the consumer: the signal is acknowledged when they have ended (``service.Fence``).
    A call never ended (its worker died) stops counting at its ``until``."""

    async def begin_call(self, step_id: str, keys: Sequence[str], until: float) -> None: ...

    async def end_call(self, step_id: str, keys: Sequence[str]) -> None: ...

    async def calling(self, keys: Sequence[str], now: float) -> int:
        """How many calls to any of ``keys`` are on the wire at ``now`` (wall seconds)."""
        ...


class SendRecords(Reservations, Recipients, Suppressions, Calls, Protocol):
    """All four, as one store keeps them."""


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
    paced: bool = False  # its turn is reserved: it goes when due, without another

    @property
    def step_id(self) -> str:
        data = self.envelope.data
        return data.step.step_id if isinstance(data, StepApproved) else self.envelope.id

    @property
    def approval(self) -> StepApproved:
        data = self.envelope.data
        if not isinstance(data, StepApproved):
            raise TypeError(f"{self.envelope.type} is not an approval")
        return data


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


class InFlight(RetryQueue, Protocol):
    """Steps from their reservation until their outcome is recorded (``park`` with the
    instant they are to be reconciled if still there, ``done`` once recorded)."""

    async def holds(self, step_id: str) -> bool: ...


@dataclass(frozen=True)
class Admission:
    """What ``SendSteps.admit`` found: a suppressed destination or account (nothing
    reserved), the step reserved already (``taken``: what its record holds), or neither
    (the step reserved now, and in flight)."""

    suppressed: bool = False
    taken: str | None = None

    @property
    def admitted(self) -> bool:
        return not self.suppressed and self.taken is None


class SendSteps(Protocol):
    """The checks and records around one provider call, each made as one step (one round
    trip to Redis: ``adapters.redis_send_steps``), every decision taken only once the
    store has back what a Redis loss took (``SendJournal.restore_if_lost``).
    ``keys``: the destination and ``domain.account_keys``, the suppressions to check."""

    async def admit(self, item: Parked, keys: Sequence[str], reconcile_at: float) -> Admission:
        """Unless a key is suppressed, reserve the step; newly reserved, it is in flight,
        reconciled at ``reconcile_at`` (wall seconds) if nothing settles it before."""
        ...

    async def arm(
        self, item: Parked, keys: Sequence[str], reconcile_at: float, call_until: float
    ) -> bool:
        """Right before the call (its intent journalled): remember the destination's
        owner; unless a key is suppressed (then True), put the step in flight until
        ``reconcile_at`` and its call on the wire under ``keys`` until ``call_until``
        (``Calls``), in the same step as the check."""
        ...

    async def settle(self, step_id: str, keys: Sequence[str], record_as: str | None = None) -> None:
        """The step is no longer in flight nor its call on the wire; with ``record_as``,
        its outcome recorded in the same step."""
        ...


class Pacer(Protocol):
    """Turns shared by every replica (``domain.pacing``)."""

    async def reserve(self, buckets: Sequence[tuple[str, Rate]], now: float) -> float:
        """Reserve the next turn through all ``buckets``; the wall instant it comes."""
        ...


class SendJournal(Protocol):
    """Durable beyond Redis: what was tried, so lost reservations and owners come back."""

    async def intend(self, item: Parked, reconcile_at: float) -> None:
        """Record, acknowledged, that ``item``'s step goes to the provider now (to its
        destination for its account), in flight until settled: a Redis that loses it gets
        it back reserved, and reconciled at ``reconcile_at`` (wall seconds)."""
        ...

    async def settled(self, item: Parked, outcome: str | None = None) -> Awaitable[Any] | None:
        """Queue that ``item``'s step, tried, is no longer in flight, with the outcome it was
        recorded with (a provider id, a rejection, a failure), if any: a Redis that loses
        the record gets that back, not a step to reconcile (a rejected send left nothing at
        the provider: asked, the provider would say "not sent" and it would go again). The
        broker's acknowledgement to await before the approval's offset is committed (None:
        nothing to await)."""
        ...

    async def restore_if_lost(self) -> bool:
        """Put back into the fast store what it lost (a flush, a fresh Redis) before
        anything is decided from it; whether it had."""
        ...

    async def abandon(self, step_id: str) -> None:
        """Withdraw the intent of ``step_id``: it was not sent (it expired before the call)."""
        ...


class SignalsApplied(Protocol):
    """The barrier between ``consumer.signals.v1`` and a send: a dispute or a cease the
    ledger recorded reaches the worker only through that topic, some moments later."""

    async def wait(self) -> None:
        """Return once every signal on the topic when this was called has been applied to
        the suppressions; raise ``TransientError`` when that cannot be shown in time (the
        broker away, the signals' consumer behind): nothing is sent unchecked."""


class DeadLetters(Protocol):
    """Parks an approval that can never be sent on its topic's dead-letter topic."""

    async def dead_letter(self, envelope: Envelope, reason: str) -> Awaitable[Any]: ...


@dataclass(frozen=True)
class Pacing:
    """Send rates: the provider's (all senders together) and each sender's, if limited."""

    pacer: Pacer
    provider: Rate | None = None
    sender: Rate | None = None
    # A turn further away than this is waited for parked (the send slot freed).
    inline_wait_s: float = 1.0

    def buckets(self, provider: str, sender_id: str) -> list[tuple[str, Rate]]:
        named = [(provider, self.provider), (f"{provider}:{sender_id}", self.sender)]
        return [(name, rate) for name, rate in named if rate is not None]

    async def turn(self, provider: str, sender_id: str, now: float) -> float | None:
        """The wall instant of the reserved turn; None when no rate limits this send."""
        buckets = self.buckets(provider, sender_id)
        return await self.pacer.reserve(buckets, now) if buckets else None
