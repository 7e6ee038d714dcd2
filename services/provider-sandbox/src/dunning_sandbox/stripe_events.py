"""Stripe's objects and events as the sandbox renders and sends them: the PaymentIntent,
`charge.dispute.created` (the dispute test card, or the control API), and the end of a
`processing` payment (the delayed test cards): `payment_intent.succeeded` or
`payment_intent.payment_failed`, its PaymentIntent as the event's object, metadata and all.

Events go to the Stripe endpoint's URL signed with its secret (`Stripe-Signature`, a fresh
timestamp on every attempt), through the webhook dispatcher: a 5xx or no answer is tried
again, as Stripe retries an endpoint. No endpoint set: the event is counted as unsent.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from dunning_sandbox import stripe_rules
from dunning_sandbox.charge_store import PaymentRecord
from dunning_sandbox.ids import stripe_id
from dunning_sandbox.signing import STRIPE_SIGNATURE_HEADER, stripe_signature
from dunning_sandbox.state import SandboxState
from dunning_sandbox.webhook_dispatcher import Delivery, is_allowed_callback_url


def payment_intent(record: PaymentRecord) -> dict[str, Any]:
    """The PaymentIntent object, as Stripe renders it (the fields we keep)."""
    error = record.last_payment_error
    succeeded = record.status == "succeeded"
    return {
        "id": record.id,
        "object": "payment_intent",
        "amount": record.amount,
        "amount_capturable": 0,
        "amount_received": record.amount if succeeded else 0,
        "capture_method": "automatic_async",
        "client_secret": record.client_secret,
        "confirmation_method": "automatic",
        "created": record.created,
        "currency": record.currency,
        "description": record.description,
        "last_payment_error": error.to_json() if error else None,
        "latest_charge": record.charge_id,
        "livemode": False,
        "metadata": record.metadata,
        "next_action": (
            {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
            if record.status == "requires_action"
            else None
        ),
        "payment_method": record.payment_method_id,
        "payment_method_types": ["card"],
        "status": record.status,
    }


def event(event_type: str, subject: dict[str, Any], now: int) -> dict[str, Any]:
    """A Stripe `event` object about `subject`."""
    return {
        "id": stripe_id("evt"),
        "object": "event",
        "api_version": stripe_rules.API_VERSION,
        "created": now,
        "data": {"object": subject},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def dispute_event(record: PaymentRecord, dispute_id: str, now: int) -> dict[str, Any]:
    """The `charge.dispute.created` event of a fraud dispute on `record`'s charge."""
    dispute = {
        "id": dispute_id,
        "object": "dispute",
        "amount": record.amount,
        "balance_transactions": [],
        "charge": record.charge_id,
        "created": now,
        "currency": record.currency,
        "evidence_details": {
            "due_by": now + 7 * 86_400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": record.id,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    return event("charge.dispute.created", dispute, now)


def open_dispute(state: SandboxState, record: PaymentRecord) -> str | None:
    """Dispute `record`'s charge and send the signed event; its id (None: nothing to
    dispute, or already disputed)."""
    if record.status != "succeeded" or record.dispute_id is not None:
        return None
    record.dispute_id = dispute_id = stripe_id("dp")
    state.charges.counts["stripe.disputed"] += 1
    send(state, dispute_event(record, dispute_id, int(time.time())))
    return dispute_id


def dispute_later(state: SandboxState, record: PaymentRecord) -> None:
    open_dispute(state, record)


def finish_processing(state: SandboxState, record: PaymentRecord) -> None:
    """End a `processing` payment as its card says, and send the event that tells it."""
    outcome = record.then
    if record.status != "processing" or outcome is None:
        return
    record.then = None
    record.status = outcome.status
    record.last_payment_error = outcome.decline
    state.charges.counts[f"stripe.{outcome.status}"] += 1
    succeeded = outcome.status == "succeeded"
    kind = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
    send(state, event(kind, payment_intent(record), int(time.time())))


def send(state: SandboxState, payload_object: dict[str, Any]) -> None:
    """Sign and send an event to the Stripe endpoint (counted unsent when there is none)."""
    url = state.stripe_endpoint.url
    if url is None or not is_allowed_callback_url(url, state.settings.callback_allowed_hosts):
        state.charges.counts["stripe.event.unsent"] += 1
        return
    payload = orjson.dumps(payload_object)
    secret = state.stripe_endpoint.secret

    def build() -> tuple[bytes, dict[str, str]]:
        return payload, {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            STRIPE_SIGNATURE_HEADER: stripe_signature(secret, int(time.time()), payload),
        }

    state.charges.counts["stripe.event.sent"] += 1
    state.dispatcher.submit(Delivery(url=url, build=build))
