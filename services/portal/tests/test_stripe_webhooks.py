"""Stripe webhooks: the sandbox's dispute event read by the adapter (the payment's metadata
looked up through the Stripe adapter), and every way a webhook is refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
import pytest
from dunning_portal.adapters.stripe_processor import ProcessorUnavailable, StripeProcessor
from dunning_portal.adapters.stripe_webhooks import StripeWebhooks, WebhookRejected, verify
from dunning_portal.ports import CardDetails, ChargeRequest, ProcessorEvent
from dunning_sandbox.signing import stripe_signature
from dunning_testkit.servers import RecordedRequest, WebhookRecorder

SECRET_KEY = "sk_test_portal_webhook_tests"
WEBHOOK_SECRET = "whsec_portal_webhook_tests"
WEBHOOK_PATH = "/webhooks/stripe"


class NoLookup:
    async def payment_metadata(self, processor_id: str) -> dict[str, str]:
        raise AssertionError("the event carried its metadata")


class Unreachable:
    async def payment_metadata(self, processor_id: str) -> dict[str, str]:
        raise ProcessorUnavailable("network", "connection refused")


def signed(event: dict[str, Any], at: int | None = None) -> tuple[bytes, str]:
    payload = orjson.dumps(event)
    return payload, stripe_signature(WEBHOOK_SECRET, at or int(time.time()), payload)


def event_of(kind: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "type": kind,
        "data": {"object": subject},
        "livemode": False,
        "created": int(time.time()),
    }


async def test_a_disputed_charge_arrives_with_the_payments_metadata(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    metadata = {"account_id": "ACC-9", "payment_id": f"pay-{uuid.uuid4().hex}"}
    async with StripeProcessor(secret_key=SECRET_KEY, api_base=stripe_sandbox) as payments:
        charge = await payments.charge(
            ChargeRequest(
                idempotency_key=uuid.uuid4().hex,
                amount_minor=4_000,
                currency="usd",
                card=CardDetails("4000000000000259", 12, 2034, "123", None),
                description="Payment on ACC-9",
                metadata=metadata,
            )
        )
        assert charge.status == "succeeded"

        def mine(requests: list[RecordedRequest]) -> list[RecordedRequest]:
            return [r for r in requests if charge.processor_id.encode() in r.body]

        seen = await asyncio.to_thread(receiver.wait_for, lambda rs: bool(mine(rs)), WEBHOOK_PATH)
        [delivery] = mine(seen)
        webhooks = StripeWebhooks(WEBHOOK_SECRET, payments)
        event = await webhooks.read(delivery.body, delivery.headers["stripe-signature"])
    assert event is not None
    assert (event.kind, event.processor_id, event.metadata) == (
        "charge_disputed",
        charge.processor_id,
        metadata,
    )


async def test_a_failed_payment_carries_its_own_metadata() -> None:
    intent = {"id": "pi_failed", "object": "payment_intent", "metadata": {"account_id": "A"}}
    payload, signature = signed(event_of("payment_intent.payment_failed", intent))
    event = await StripeWebhooks(WEBHOOK_SECRET, NoLookup()).read(payload, signature)
    assert event == ProcessorEvent("charge_failed", "pi_failed", {"account_id": "A"})
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_2", "metadata": {"k": "v"}}
    payload, signature = signed(event_of("charge.failed", charge))
    failed = verify(payload, signature, WEBHOOK_SECRET)
    assert failed is not None
    assert (failed.kind, failed.processor_id, failed.metadata) == (
        "charge_failed",
        "pi_2",
        {"k": "v"},
    )


def test_a_payment_that_succeeded_carries_the_amount_received() -> None:
    intent = {
        "id": "pi_later",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 2_550,
        "amount_received": 2_550,
        "currency": "usd",
        "metadata": {"account_id": "A", "payment_key": "pg-pay-1"},
    }
    payload, signature = signed(event_of("payment_intent.succeeded", intent))
    assert verify(payload, signature, WEBHOOK_SECRET) == ProcessorEvent(
        "charge_succeeded", "pi_later", {"account_id": "A", "payment_key": "pg-pay-1"}, 2_550, "USD"
    )
    nothing = {**intent, "amount_received": 0}
    payload, signature = signed(event_of("payment_intent.succeeded", nothing))
    with pytest.raises(WebhookRejected) as rejected:
        verify(payload, signature, WEBHOOK_SECRET)
    assert rejected.value.reason == "malformed"


def test_other_event_types_are_acknowledged_and_ignored() -> None:
    intent = {"id": "pi_ok", "object": "payment_intent", "metadata": {}}
    payload, signature = signed(event_of("payment_intent.created", intent))
    assert verify(payload, signature, WEBHOOK_SECRET) is None


def test_forged_tampered_stale_or_unsigned_webhooks_are_rejected() -> None:
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": "pi_1", "metadata": {}}
    payload, signature = signed(event_of("charge.dispute.created", dispute))
    cases: dict[str, list[tuple[bytes, str | None]]] = {
        "bad_signature": [
            (payload, stripe_signature("whsec_forger", int(time.time()), payload)),
            (payload.replace(b"pi_1", b"pi_2"), signature),
            signed(event_of("charge.dispute.created", dispute), at=int(time.time()) - 3_600),
            (payload, "t=1,v1=deadbeef"),
        ],
        "missing_signature": [(payload, None), (payload, "")],
    }
    for reason, attempts in cases.items():
        for body, header in attempts:
            with pytest.raises(WebhookRejected) as rejected:
                verify(body, header, WEBHOOK_SECRET)
            assert rejected.value.reason == reason


def test_a_signed_payload_that_is_not_an_event_is_malformed() -> None:
    not_json = b"{not json"
    at = int(time.time())
    with pytest.raises(WebhookRejected) as rejected:
        verify(not_json, stripe_signature(WEBHOOK_SECRET, at, not_json), WEBHOOK_SECRET)
    assert rejected.value.reason == "malformed"
    not_an_event = b"{}"
    with pytest.raises(WebhookRejected) as rejected:
        verify(not_an_event, stripe_signature(WEBHOOK_SECRET, at, not_an_event), WEBHOOK_SECRET)
    assert rejected.value.reason == "malformed"
    no_intent = {"id": "dp_2", "object": "dispute", "metadata": {}}
    payload, signature = signed(event_of("charge.dispute.created", no_intent))
    with pytest.raises(WebhookRejected) as rejected:
        verify(payload, signature, WEBHOOK_SECRET)
    assert rejected.value.reason == "malformed"


async def test_an_unreachable_lookup_is_transient_so_stripe_delivers_again() -> None:
    dispute = {"id": "dp_3", "object": "dispute", "payment_intent": "pi_3", "metadata": {}}
    payload, signature = signed(event_of("charge.dispute.created", dispute))
    with pytest.raises(ProcessorUnavailable):
        await StripeWebhooks(WEBHOOK_SECRET, Unreachable()).read(payload, signature)
