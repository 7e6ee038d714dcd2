"""The use case of every channel worker: send an approved step once, report what happened.

``SendApprovals`` is the consumer-loop handler of an ``outreach.approved.<channel>.v1``
topic. For every approval it refuses content whose hash differs from what the gate
vetted, skips destinations suppressed since, reserves the step id so a redelivered
approval is never sent twice, sends through the channel's ``Sender`` with bounded
concurrency, and publishes a ``delivery.updated.v1`` (plus an opt-out signal when the
provider says the recipient unsubscribed). ``flush`` waits for all of it.

Errors: ``PermanentError`` for an event that is not this channel's approval (dead
letter); ``TransientError`` from ``flush`` when a send failed before anything left (the
batch is redelivered, the step's reservation released).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryStatus,
    DeliveryUpdated,
    SignalKind,
    StepApproved,
)
from dunning_core.contracts.ids import event_id
from dunning_core.runtime.errors import PermanentError, TransientError
from dunning_core.runtime.kafka import Backoff

from dunning_channels.domain import (
    AmbiguousSend,
    Report,
    SendOutcome,
    admission,
    already_sent,
    expired,
    report_for,
)
from dunning_channels.ports import Clock, Publisher, Sender, SendRecords

log = logging.getLogger(__name__)

SEND_BY_PASSED = "send_by_passed"
_NOTHING_SENT = (DeliveryStatus.REFUSED, DeliveryStatus.EXPIRED)


class SendApprovals:
    """The handler of approved steps for one channel."""

    def __init__(
        self,
        *,
        service: str,
        channel: Channel,
        sender: Sender,
        records: SendRecords,
        publisher: Publisher,
        clock: Clock,
        concurrency: int = 32,
        backoff: Backoff | None = None,
    ) -> None:
        self.service = service
        self.channel = channel
        self.sender = sender
        self.records = records
        self.publisher = publisher
        self.clock = clock
        self.backoff = backoff or Backoff(initial=0.2, maximum=5.0)
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: list[asyncio.Task[None]] = []
        self._acks: list[Awaitable[Any]] = []
        self.sent = 0
        self.refused = 0
        self.skipped = 0
        self.ambiguous = 0
        self.expirations = 0

    async def handle(self, envelope: Envelope) -> None:
        approval = envelope.data
        if not isinstance(approval, StepApproved):
            raise PermanentError(f"{envelope.type} is not an approval")
        step = approval.step
        if step.channel is not self.channel:
            raise PermanentError(f"step {step.step_id} is for {step.channel}, not {self.channel}")
        refusal = admission(step, suppressed=await self.records.is_suppressed(step.destination))
        if refusal is not None:
            self.refused += 1
            await self._report(approval, DeliveryStatus.REFUSED, None, refusal.reason, envelope)
            return
        if expired(approval.send_by, self.clock.now()):
            await self._expire(approval, envelope)
            return
        if already_sent(await self.records.reserve(step.step_id)):
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
                if outcome is None:
                    # Nothing was sent: free the step for its re-planned approval.
                    await self.records.release(step.step_id)
                    sent = True
                    await self._expire(approval, envelope)
                    return
            except AmbiguousSend as exc:
                sent = True  # keep the reservation: it may be out there
                self.ambiguous += 1
                log.warning(
                    "send outcome unknown; not resent",
                    extra={"step_id": step.step_id, "error": str(exc)},
                )
                return
            sent = True
            await self._conclude(approval, report_for(outcome), envelope)
        except Exception:
            if not sent:
                # Nothing left the building: free the step so the redelivered batch sends it.
                await self.records.release(step.step_id)
            raise
        finally:
            self._slots.release()

    async def _conclude(self, approval: StepApproved, report: Report, envelope: Envelope) -> None:
        step = approval.step
        await self.records.record(step.step_id, report.record_as)
        if report.status is DeliveryStatus.ACCEPTED:
            self.sent += 1
        await self._report(
            approval,
            report.status,
            report.provider_message_id,
            report.error_code,
            envelope,
            report.detail,
        )
        if report.opted_out and report.error_code is not None:
            await self.records.suppress(step.destination)
            await self._signal_opt_out(approval, report.error_code, envelope)

    async def _send_with_retry(self, approval: StepApproved) -> SendOutcome | None:
        """The provider's answer; None when send_by passed before it could be asked."""
        attempt = 0
        while True:
            if expired(approval.send_by, self.clock.now()):
                return None
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

    async def _expire(self, approval: StepApproved, cause: Envelope) -> None:
        self.expirations += 1
        assert approval.send_by is not None
        # One expiry per approved window: a re-planned step that expires again is news.
        await self._report(
            approval,
            DeliveryStatus.EXPIRED,
            None,
            SEND_BY_PASSED,
            cause,
            f"send_by {approval.send_by.isoformat()} passed before sending",
            event_id=event_id(
                DeliveryUpdated.event_type,
                approval.step.step_id,
                DeliveryStatus.EXPIRED.value,
                approval.send_by.isoformat(),
            ),
        )

    async def _report(
        self,
        approval: StepApproved,
        status: DeliveryStatus,
        provider_id: str | None,
        code: str | None,
        cause: Envelope,
        detail: str | None = None,
        event_id: str | None = None,
    ) -> None:
        event = DeliveryUpdated(
            account_id=approval.account_id,
            step_id=approval.step.step_id,
            channel=self.channel,
            provider="none" if status in _NOTHING_SENT else self.sender.provider,
            provider_message_id=provider_id,
            status=status,
            error_code=code,
            detail=detail,
            occurred_at=self.clock.now(),
        )
        envelope = wrap(event, self.service, event_id=event_id, traceparent=cause.traceparent)
        self._acks.append(await self.publisher.send(envelope))

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
            await self.publisher.send(wrap(signal, self.service, traceparent=cause.traceparent))
        )

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        acks, self._acks = self._acks, []
        await asyncio.gather(*acks)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise TransientError(f"{len(errors)} sends failed; first: {errors[0]!r}") from errors[0]
