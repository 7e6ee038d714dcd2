"""Stripe webhooks in: verified with `stripe.Webhook.construct_event`, read into a typed
`ProcessorEvent`, or refused with the reason.

    `charge.dispute.created`                 → charge_disputed (the payer's bank took the
                                               money back: the portal records a chargeback)
    `payment_intent.succeeded`               → charge_succeeded, with the amount received
                                               (a charge that was `processing` went through;
                                               Stripe also sends it for one that succeeded
                                               at once: the portal records either once)
    `payment_intent.payment_failed`,
    `charge.failed`                          → charge_failed
    any other type                           → None: acknowledge it, nothing to do

`processor_id` is the PaymentIntent's id, as `StripeProcessor.charge` returned it. A
dispute carries no metadata of the payment (only its own), so `StripeWebhooks.read`
asks a `PaymentLookup` (`StripeProcessor.payment_metadata`) for it: that is I/O, hence
`read` is async; a failing lookup is `ProcessorUnavailable`, so the route answers 5xx and
Stripe delivers the event again. `verify` alone is the pure, synchronous half.

    WebhookRejected (a ValueError): reason "missing_signature" | "bad_signature" |
    "malformed" (answer 400; the signature covers a timestamp, so a capture replayed
    after `tolerance_s` is a bad signature)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal, Protocol

import stripe

from dunning_portal.ports import ProcessorEvent

ProcessorEventKind = Literal["charge_disputed", "charge_failed", "charge_succeeded"]
RejectionReason = Literal["missing_signature", "bad_signature", "malformed"]

_KINDS: dict[str, ProcessorEventKind] = {
    "charge.dispute.created": "charge_disputed",
    "payment_intent.succeeded": "charge_succeeded",
    "payment_intent.payment_failed": "charge_failed",
    "charge.failed": "charge_failed",
}


class WebhookRejected(ValueError):
    """Not a genuine Stripe event for this endpoint; nothing may be done with it."""

    def __init__(self, reason: RejectionReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class PaymentLookup(Protocol):
    async def payment_metadata(self, processor_id: str) -> dict[str, str]: ...


def verify(
    payload: bytes, signature: str | None, secret: str, tolerance_s: int = 300
) -> ProcessorEvent | None:
    """The event `payload` carries if `signature` is the endpoint's; None for a type we
    do not act on. Raises `WebhookRejected`."""
    if not signature:
        raise WebhookRejected("missing_signature")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance_s)
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected("bad_signature", str(error.user_message or "")) from None
    except ValueError as error:  # not JSON
        raise WebhookRejected("malformed", type(error).__name__) from None
    try:
        kind = _KINDS.get(event.type)
        return None if kind is None else _read(kind, event.data.object.to_dict())
    except (KeyError, TypeError, AttributeError) as error:
        raise WebhookRejected("malformed", f"{type(error).__name__}: {error}") from None


def _read(kind: ProcessorEventKind, subject: Any) -> ProcessorEvent:
    if subject["object"] == "payment_intent":
        processor_id = subject["id"]
    else:  # a charge or a dispute
        processor_id = subject["payment_intent"]
    if not isinstance(processor_id, str) or not processor_id:
        raise TypeError("no payment_intent")
    metadata = {} if subject["object"] == "dispute" else _strings(subject.get("metadata"))
    if kind != "charge_succeeded":
        return ProcessorEvent(kind, processor_id, metadata)
    amount, currency = subject["amount_received"], subject["currency"]
    if not isinstance(amount, int) or amount <= 0 or not isinstance(currency, str):
        raise TypeError("no amount received")
    return ProcessorEvent(kind, processor_id, metadata, amount, currency.upper())


def _strings(metadata: Any) -> dict[str, str]:
    if metadata is None:
        return {}
    return {str(key): str(value) for key, value in metadata.items()}


class StripeWebhooks:
    """`read` = `verify`, then the payment's metadata when the event carries none."""

    def __init__(self, secret: str, lookup: PaymentLookup, *, tolerance_s: int = 300) -> None:
        self._secret = secret
        self._lookup = lookup
        self._tolerance_s = tolerance_s

    async def read(self, payload: bytes, signature: str | None) -> ProcessorEvent | None:
        event = verify(payload, signature, self._secret, self._tolerance_s)
        if event is None or event.metadata:
            return event
        metadata = await self._lookup.payment_metadata(event.processor_id)
        return replace(event, metadata=metadata)
