"""SendGrid Event Webhook, Inbound Parse and one-click unsubscribe handled: provider news
and the consumers' e-mailed replies become events.

Event batches are verified with SendGrid's ECDSA signature before anything happens (403
otherwise), then read whole by the domain's ``parse_event_batch``, the one reading of them
(400, touching nothing, when the body is not an array of event objects). Unsubscribes and
spam reports are on the broker and suppressed before the sender hears 200, so none is lost
to a crash; opens and clicks become ENGAGED signals.
Inbound Parse cannot be signed: SendGrid posts to the URL it was given, so the URL carries
a secret path token (settings), compared in constant time; a post without it is answered
403 and records nothing. A reply is read by the same classifier and mapped to the same
signals as an sms (``dunning_channels.domain.replies``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from dunning_channels.domain.replies import read_inbound
from dunning_channels.domain.webhook_errors import WebhookPayloadError
from dunning_channels.service.webhooks import ProviderWebhooks
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, SignalKind
from dunning_core.links import read_unsubscribe_token
from dunning_core.runtime.tracing import callback_span, step_traceparent
from fastapi import HTTPException

from dunning_email.domain import (
    EmailEvent,
    delivery_status,
    parse_event_batch,
    reply_text,
    sender_of,
    signal_kind,
)
from dunning_email.ports import EventSignatureVerifier

log = logging.getLogger(__name__)
SERVICE: Final = "email"


@dataclass(eq=False, repr=False, kw_only=True)
class SendGridWebhooks(ProviderWebhooks, channel=Channel.EMAIL, source=SERVICE):
    verifier: EventSignatureVerifier
    unsubscribe_secret: str
    inbound_token: str = ""

    async def events(self, payload: bytes, signature: str | None, timestamp: str | None) -> int:
        """A batch's events on the broker, then its unsubscribes and spam reports suppressed;
        how many events were published."""
        if (
            not signature
            or not timestamp
            or not self.verifier.verify(payload, signature, timestamp)
        ):
            self.rejected += 1
            log.warning("rejected sendgrid webhook: bad signature")
            raise HTTPException(status_code=403, detail="invalid event webhook signature")
        try:
            # The whole batch read before any of it is published: a 400 leaves nothing half-done.
            batch = parse_event_batch(payload)
        except WebhookPayloadError as exc:
            log.warning("refused sendgrid webhook: %s", exc)
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        acks = []
        for event in batch:
            for envelope in self._events_for(event):
                # A delivery report continues its step's trace (the step id gives it).
                with callback_span("email.status_callback", envelope):
                    acks.append(await self.producer.send(envelope))
        for ack in acks:
            await ack
        for event in batch:
            # Any address SendGrid will no longer mail, ours or not (no custom args needed).
            kind = signal_kind(event.event)
            if event.email and kind in (SignalKind.UNSUBSCRIBED, SignalKind.SPAM_REPORTED):
                await self._suppress(event.email)
        return len(acks)

    def _events_for(self, item: EmailEvent) -> list[Any]:
        account_id = item.custom_args.get("account_id", "")
        step_id = item.custom_args.get("step_id", "")
        out: list[Any] = []
        if not account_id:
            return out  # not one of our messages (no custom_args)
        status = delivery_status(item.event)
        if status is not None and step_id:
            out.append(
                wrap(
                    DeliveryUpdated(
                        account_id=account_id,
                        step_id=step_id,
                        channel=Channel.EMAIL,
                        provider="sendgrid",
                        # The id the send returned (X-Message-Id), which the accepted
                        # report carried: one id for the message in every report of it.
                        provider_message_id=item.provider_message_id or None,
                        status=status,
                        error_code=item.status or item.bounce_type,
                        detail=(item.reason or "")[:500] or None,
                        occurred_at=self.clock.now(),
                    ),
                    SERVICE,
                    traceparent=step_traceparent(step_id),
                )
            )
        kind = signal_kind(item.event)
        if kind is not None:
            name = item.event
            details = {"event": name, "step_id": step_id} if kind is SignalKind.ENGAGED else {}
            signal_id = item.sg_event_id or (f"{name}:{step_id}" if details else step_id)
            signal = self._signal(account_id, kind, item.email, signal_id, details)
            out.append(wrap(signal, SERVICE))
        return out

    def _signal(
        self,
        account_id: str,
        kind: SignalKind,
        address: str,
        signal_id: str,
        details: dict[str, str] | None = None,
    ) -> ConsumerSignaled:
        return ConsumerSignaled(
            account_id=account_id,
            signal_id=signal_id or f"{kind.value}:{address}",
            kind=kind,
            channel=Channel.EMAIL,
            address=address or None,
            source="email",
            occurred_at=self.clock.now(),
            details={k: v for k, v in (details or {}).items() if v},
        )

    async def inbound(self, token: str, form: Mapping[str, str]) -> int:
        """An Inbound Parse post: the reply classified, its signals on the broker; how many."""
        if not self.inbound_token or not hmac.compare_digest(
            token.encode(), self.inbound_token.encode()
        ):
            self.rejected += 1
            log.warning("rejected sendgrid inbound parse: bad path token")
            raise HTTPException(status_code=403, detail="unknown inbound parse token")
        sender = sender_of(form.get("from", ""), form.get("envelope", ""))
        if not sender:
            raise HTTPException(status_code=400, detail="no sender address (from, envelope)")
        text = reply_text(form.get("text", ""), form.get("html", ""))
        was_suppressed = await self.records.is_suppressed(sender)
        meaning = read_inbound(text, now=self.clock.now(), after_opt_out=was_suppressed)
        await self._keep_choice(meaning.kind, sender)
        # SendGrid retries a post it got no 2xx for: the same message, the same signal id.
        message_id = _header(form.get("headers", ""), "message-id")
        key = message_id or f"{sender}\n{form.get('subject', '')}\n{text}"
        signal_id = "email:" + hashlib.sha256(key.encode()).hexdigest()[:48]
        details = {**meaning.details, "subject": form.get("subject", "")[:200]}
        return await self._publish_reply(
            meaning,
            address=sender,
            text=text,
            signal_id=signal_id,
            details={k: v for k, v in details.items() if v},
        )

    async def unsubscribe(self, token: str) -> None:
        named = read_unsubscribe_token(self.unsubscribe_secret, token)
        if named is None:
            raise HTTPException(status_code=403, detail="invalid unsubscribe token")
        account_id, address = named
        await self._suppress(address)
        signal = self._signal(
            account_id, SignalKind.UNSUBSCRIBED, address, f"one-click:{token[:40]}"
        )
        await (await self.producer.send(wrap(signal, SERVICE)))


def _header(headers: str, name: str) -> str:
    """One header's value from Inbound Parse's raw ``headers`` field ('' when absent)."""
    for line in headers.replace("\r\n", "\n").split("\n"):
        field_name, sep, value = line.partition(":")
        if sep and field_name.strip().lower() == name:
            return value.strip()
    return ""
