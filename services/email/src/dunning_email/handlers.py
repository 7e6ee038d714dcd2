"""SendGrid Event Webhook and one-click unsubscribe handled: provider news becomes events.

Event batches are verified with SendGrid's ECDSA signature before anything happens (403
otherwise). Unsubscribes and spam reports are suppressed and on the broker before the
sender hears 200, so none is lost to a crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from dunning_channels.ports import Clock, Publisher, SendRecords
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, SignalKind
from dunning_core.links import read_unsubscribe_token
from dunning_core.runtime.tracing import step_traceparent
from fastapi import HTTPException

from dunning_email.domain import delivery_status, signal_kind
from dunning_email.ports import EventSignatureVerifier

log = logging.getLogger(__name__)
SERVICE = "email"


@dataclass(eq=False, repr=False, kw_only=True)
class SendGridWebhooks:
    verifier: EventSignatureVerifier
    producer: Publisher
    records: SendRecords
    clock: Clock
    unsubscribe_secret: str
    rejected: int = field(default=0, init=False)

    async def events(self, payload: bytes, signature: str | None, timestamp: str | None) -> int:
        if (
            not signature
            or not timestamp
            or not self.verifier.verify(payload, signature, timestamp)
        ):
            self.rejected += 1
            log.warning("rejected sendgrid webhook: bad signature")
            raise HTTPException(status_code=403, detail="invalid event webhook signature")
        try:
            batch = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(status_code=400, detail=f"body is not JSON: {exc}") from exc
        if not isinstance(batch, list):
            raise HTTPException(status_code=400, detail="body must be a JSON array of events")
        acks = []
        for index, item in enumerate(batch):
            if not isinstance(item, dict):
                raise HTTPException(status_code=400, detail=f"event [{index}] is not an object")
            for envelope in self._events_for(item):
                acks.append(await self.producer.send(envelope))
        for ack in acks:
            await ack
        return len(acks)

    def _events_for(self, item: dict[str, Any]) -> list[Any]:
        account_id = str(item.get("account_id") or "")
        step_id = str(item.get("step_id") or "")
        name = str(item.get("event") or "")
        address = str(item.get("email") or "")
        event_id = str(item.get("sg_event_id") or "")
        out: list[Any] = []
        if not account_id:
            return out  # not one of our messages (no custom_args)
        status = delivery_status(name)
        if status is not None and step_id:
            out.append(
                wrap(
                    DeliveryUpdated(
                        account_id=account_id,
                        step_id=step_id,
                        channel=Channel.EMAIL,
                        provider="sendgrid",
                        provider_message_id=str(item.get("sg_message_id") or "") or None,
                        status=status,
                        error_code=str(item.get("status") or item.get("type") or "") or None,
                        detail=str(item.get("reason") or "")[:500] or None,
                        occurred_at=self.clock.now(),
                    ),
                    SERVICE,
                    traceparent=step_traceparent(step_id),
                )
            )
        kind = signal_kind(name)
        if kind is not None:
            out.append(wrap(self._signal(account_id, kind, address, event_id or step_id), SERVICE))
        return out

    def _signal(
        self, account_id: str, kind: SignalKind, address: str, signal_id: str
    ) -> ConsumerSignaled:
        return ConsumerSignaled(
            account_id=account_id,
            signal_id=signal_id or f"{kind.value}:{address}",
            kind=kind,
            channel=Channel.EMAIL,
            address=address or None,
            source="email",
            occurred_at=self.clock.now(),
        )

    async def suppress_from(self, payload: bytes) -> None:
        for item in orjson.loads(payload):
            if isinstance(item, dict) and signal_kind(str(item.get("event"))) and item.get("email"):
                await self.records.suppress(str(item["email"]))

    async def unsubscribe(self, token: str) -> None:
        named = read_unsubscribe_token(self.unsubscribe_secret, token)
        if named is None:
            raise HTTPException(status_code=403, detail="invalid unsubscribe token")
        account_id, address = named
        await self.records.suppress(address)
        signal = self._signal(
            account_id, SignalKind.UNSUBSCRIBED, address, f"one-click:{token[:40]}"
        )
        await (await self.producer.send(wrap(signal, SERVICE)))
