"""What a channel worker publishes about a step: its delivery status, its expiry, a signal.

Each event is queued on the producer; the broker's acknowledgement is appended to the
caller's ``acks``, which it awaits before the batch (or the retry) counts as done.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import DeliveryStatus, Event, StepApproved

from dunning_channels.domain import Provider, delivery_update, expiry, opt_out_signal
from dunning_channels.ports import Clock, Publisher

Acks = list[Awaitable[Any]]


@dataclass(eq=False, repr=False, kw_only=True)
class Reports:
    """Publishes, for one provider, what became of approved steps (and the opt-outs it
    reported when refusing one)."""

    service: str
    provider: Provider
    publisher: Publisher
    clock: Clock

    async def expire(self, approval: StepApproved, cause: Envelope, acks: Acks) -> None:
        event, expiry_id = expiry(approval, provider=self.provider, now=self.clock.now())
        await self.publish(event, cause, acks, event_id=expiry_id)

    async def report(
        self,
        approval: StepApproved,
        status: DeliveryStatus,
        code: str | None,
        cause: Envelope,
        acks: Acks,
        detail: str | None = None,
        provider_message_id: str | None = None,
    ) -> None:
        now, provider = self.clock.now(), self.provider
        event = delivery_update(
            approval, provider=provider, status=status, now=now,
            error_code=code, detail=detail, provider_message_id=provider_message_id,
        )  # fmt: skip
        await self.publish(event, cause, acks)

    async def opted_out(
        self, approval: StepApproved, code: str, cause: Envelope, acks: Acks
    ) -> None:
        """The recipient unsubscribed, as the provider said when refusing the send."""
        signal = opt_out_signal(approval, provider=self.provider, code=code, now=self.clock.now())
        await self.publish(signal, cause, acks)

    async def publish(
        self, event: Event, cause: Envelope, acks: Acks, event_id: str | None = None
    ) -> None:
        envelope = wrap(event, self.service, event_id=event_id, traceparent=cause.traceparent)
        acks.append(await self.publisher.send(envelope))
