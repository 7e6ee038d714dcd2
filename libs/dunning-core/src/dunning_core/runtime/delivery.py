"""What the sms and email workers share: send an approved step once, report what happened.

``ChannelWorker`` is the consumer-loop handler of an ``outreach.approved.<channel>.v1``
topic. For every approval it refuses content whose hash differs from what the gate
vetted, skips destinations suppressed since, reserves the step id so a redelivered
approval is never sent twice, sends through the channel's ``Sender`` with bounded
concurrency, and publishes a ``delivery.updated.v1`` (plus an opt-out signal when the
provider says the recipient unsubscribed). ``flush`` waits for all of it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from redis.asyncio import Redis

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryStatus,
    DeliveryUpdated,
    OutreachStep,
    SignalKind,
    StepApproved,
)
from dunning_core.runtime.clock import Clock
from dunning_core.runtime.errors import PermanentError, TransientError
from dunning_core.runtime.kafka import Backoff, EventProducer

log = logging.getLogger(__name__)

Provider = Literal["twilio", "sendgrid"]


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str


@dataclass(frozen=True)
class Rejected:
    code: str
    message: str
    opted_out: bool = False


SendOutcome = Accepted | Rejected


class AmbiguousSend(Exception):
    """The request may have reached the provider (a timeout after sending): never resend.

    The step stays reserved; if it was sent, the provider's callback (which carries the
    step id) reports it. A possibly lost message is preferred to a certainly doubled one.
    """


class Sender(Protocol):
    """A provider adapter. Raises ``TransientError`` when nothing was sent and a retry may
    succeed, ``AmbiguousSend`` when the provider may have the message already."""

    @property
    def provider(self) -> Provider: ...

    async def send(self, account_id: str, step: OutreachStep) -> SendOutcome: ...


class SendRecords(Protocol):
    """Which steps were sent, who owns a destination, which destinations are suppressed."""

    async def reserve(self, step_id: str) -> str | None:
        """Reserve a step for sending; None if newly reserved, else what is recorded."""
        ...

    async def record(self, step_id: str, provider_message_id: str) -> None: ...

    async def release(self, step_id: str) -> None: ...

    async def remember_owner(self, destination: str, account_id: str) -> None: ...

    async def owners(self, destination: str) -> set[str]: ...

    async def suppress(self, destination: str) -> None: ...

    async def unsuppress(self, destination: str) -> None: ...

    async def is_suppressed(self, destination: str) -> bool: ...


PENDING = "pending"


class RedisSendRecords:
    """``SendRecords`` in Redis (append-only file on): shared by every worker replica."""

    def __init__(self, redis: Redis, channel: Channel, prefix: str = "") -> None:
        self.redis = redis
        self.ns = f"{prefix}{channel.value}:"

    async def reserve(self, step_id: str) -> str | None:
        key = f"{self.ns}step:{step_id}"
        if await self.redis.set(key, PENDING, nx=True, ex=90 * 24 * 3600):
            return None
        current = await self.redis.get(key)
        return current.decode() if isinstance(current, bytes) else str(current)

    async def record(self, step_id: str, provider_message_id: str) -> None:
        await self.redis.set(f"{self.ns}step:{step_id}", provider_message_id, ex=90 * 24 * 3600)

    async def release(self, step_id: str) -> None:
        await self.redis.delete(f"{self.ns}step:{step_id}")

    async def remember_owner(self, destination: str, account_id: str) -> None:
        await self.redis.sadd(f"{self.ns}owner:{destination.lower()}", account_id)

    async def owners(self, destination: str) -> set[str]:
        members = await self.redis.smembers(f"{self.ns}owner:{destination.lower()}")
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def suppress(self, destination: str) -> None:
        await self.redis.set(f"{self.ns}suppressed:{destination.lower()}", b"1")

    async def unsuppress(self, destination: str) -> None:
        await self.redis.delete(f"{self.ns}suppressed:{destination.lower()}")

    async def is_suppressed(self, destination: str) -> bool:
        return bool(await self.redis.exists(f"{self.ns}suppressed:{destination.lower()}"))


class ChannelWorker:
    """The handler of approved steps for one channel."""

    def __init__(
        self,
        *,
        service: str,
        channel: Channel,
        sender: Sender,
        records: SendRecords,
        producer: EventProducer,
        clock: Clock,
        concurrency: int = 32,
        backoff: Backoff | None = None,
    ) -> None:
        self.service = service
        self.channel = channel
        self.sender = sender
        self.records = records
        self.producer = producer
        self.clock = clock
        self.backoff = backoff or Backoff(initial=0.2, maximum=5.0)
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: list[asyncio.Task[None]] = []
        self._acks: list[asyncio.Future[Any]] = []
        self.sent = 0
        self.refused = 0
        self.skipped = 0
        self.ambiguous = 0

    async def handle(self, envelope: Envelope) -> None:
        approval = envelope.data
        if not isinstance(approval, StepApproved):
            raise PermanentError(f"{envelope.type} is not an approval")
        step = approval.step
        if step.channel is not self.channel:
            raise PermanentError(f"step {step.step_id} is for {step.channel}, not {self.channel}")
        if step.content.content_hash() != step.content_hash:
            # What was vetted is what is sent: anything else is refused, never repaired.
            self.refused += 1
            await self._report(
                approval, DeliveryStatus.REFUSED, None, "content_hash_mismatch", envelope
            )
            return
        if await self.records.is_suppressed(step.destination):
            self.refused += 1
            await self._report(approval, DeliveryStatus.REFUSED, None, "suppressed", envelope)
            return
        existing = await self.records.reserve(step.step_id)
        if existing is not None:
            # Sent before (or a send was in flight when a worker died): never send twice.
            self.skipped += 1
            return
        await self._slots.acquire()
        self._pending.append(asyncio.create_task(self._send(approval, envelope)))

    async def _send(self, approval: StepApproved, envelope: Envelope) -> None:
        step = approval.step
        sent = False
        try:
            await self.records.remember_owner(step.destination, approval.account_id)
            try:
                outcome = await self._send_with_retry(approval)
            except AmbiguousSend as exc:
                sent = True  # keep the reservation: it may be out there
                self.ambiguous += 1
                log.warning(
                    "send outcome unknown; not resent",
                    extra={"step_id": step.step_id, "error": str(exc)},
                )
                return
            sent = True
            if isinstance(outcome, Accepted):
                await self.records.record(step.step_id, outcome.provider_message_id)
                self.sent += 1
                await self._report(
                    approval, DeliveryStatus.ACCEPTED, outcome.provider_message_id, None, envelope
                )
            else:
                await self.records.record(step.step_id, f"rejected:{outcome.code}")
                await self._report(
                    approval, DeliveryStatus.REJECTED, None, outcome.code, envelope, outcome.message
                )
                if outcome.opted_out:
                    await self.records.suppress(step.destination)
                    await self._signal_opt_out(approval, outcome.code, envelope)
        except Exception:
            if not sent:
                # Nothing left the building: free the step so the redelivered batch sends it.
                await self.records.release(step.step_id)
            raise
        finally:
            self._slots.release()

    async def _send_with_retry(self, approval: StepApproved) -> SendOutcome:
        attempt = 0
        while True:
            try:
                return await self.sender.send(approval.account_id, approval.step)
            except TransientError as exc:
                delay = self.backoff.delay(attempt)
                log.warning(
                    "provider unavailable, retrying",
                    extra={"step_id": approval.step.step_id, "error": str(exc)},
                )
                attempt += 1
                await asyncio.sleep(delay)

    async def _report(
        self,
        approval: StepApproved,
        status: DeliveryStatus,
        provider_id: str | None,
        code: str | None,
        cause: Envelope,
        detail: str | None = None,
    ) -> None:
        event = DeliveryUpdated(
            account_id=approval.account_id,
            step_id=approval.step.step_id,
            channel=self.channel,
            provider=self.sender.provider if status is not DeliveryStatus.REFUSED else "none",
            provider_message_id=provider_id,
            status=status,
            error_code=code,
            detail=detail,
            occurred_at=self.clock.now(),
        )
        self._acks.append(
            await self.producer.send(wrap(event, self.service, traceparent=cause.traceparent))
        )

    async def _signal_opt_out(self, approval: StepApproved, code: str, cause: Envelope) -> None:
        signal = ConsumerSignaled(
            account_id=approval.account_id,
            signal_id=f"{self.sender.provider}:{code}:{approval.step.step_id}",
            kind=SignalKind.OPTED_OUT,
            channel=self.channel,
            address=approval.step.destination,
            debt_id=approval.step.debt_id,
            source="provider",
            occurred_at=self.clock.now(),
            details={"provider_error": code},
        )
        self._acks.append(
            await self.producer.send(wrap(signal, self.service, traceparent=cause.traceparent))
        )

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        acks, self._acks = self._acks, []
        await asyncio.gather(*acks)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise TransientError(f"{len(errors)} sends failed; first: {errors[0]!r}") from errors[0]
