"""The sandbox's delayed cards over real HTTP: a payment answered `processing` ends later,
and a signed `payment_intent.succeeded` or `payment_intent.payment_failed` tells the
webhook endpoint, as Stripe does for methods that settle later."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest
import stripe
from dunning_testkit.servers import WebhookRecorder

SECRET_KEY = "sk_test_sandbox_delayed_tests"
WEBHOOK_SECRET = "whsec_sandbox_delayed_tests"
WEBHOOK_PATH = "/stripe/webhooks"
SUCCEEDS_LATER = "4000000000007700"
FAILS_LATER = "4000000000007718"


def create(stripe_sandbox: str, number: str, test: str) -> Any:
    client = stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": stripe_sandbox}, http_client=stripe.RequestsClient()
    )
    params: Any = {
        "amount": 2_500,
        "currency": "usd",
        "confirm": True,
        "payment_method_types": ["card"],
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        },
        "metadata": {"account_id": "ACC-1", "test": test},
    }
    return client.v1.payment_intents.create(params=params), client


def event_for(receiver: WebhookRecorder, intent_id: str) -> stripe.Event:
    def mine(requests: list[Any]) -> list[Any]:
        return [r for r in requests if orjson.loads(r.body)["data"]["object"]["id"] == intent_id]

    [delivery] = mine(receiver.wait_for(lambda rs: bool(mine(rs)), WEBHOOK_PATH))
    signature = delivery.headers["stripe-signature"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, signature, "whsec_someone_else")
    return stripe.Webhook.construct_event(delivery.body, signature, WEBHOOK_SECRET)


def test_a_processing_payment_succeeds_later_and_a_signed_event_says_so(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    test = uuid.uuid4().hex
    intent, client = create(stripe_sandbox, SUCCEEDS_LATER, test)
    assert (intent.status, intent.amount_received) == ("processing", 0)
    assert intent.latest_charge is not None

    event = event_for(receiver, intent.id)
    assert event.type == "payment_intent.succeeded"
    settled = event.data.object
    assert (settled["status"], settled["amount_received"]) == ("succeeded", 2_500)
    assert settled["metadata"].to_dict() == {"account_id": "ACC-1", "test": test}
    assert settled["latest_charge"] == intent.latest_charge
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    listed = httpx.get(f"{stripe_sandbox}/_sandbox/charges", params={"limit": 1000}).json()[
        "charges"
    ]
    assert [c["status"] for c in listed if c["metadata"].get("test") == test] == ["succeeded"]


def test_a_processing_payment_fails_later_and_a_signed_event_says_why(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    intent, client = create(stripe_sandbox, FAILS_LATER, uuid.uuid4().hex)
    assert intent.status == "processing"

    event = event_for(receiver, intent.id)
    assert event.type == "payment_intent.payment_failed"
    failed = event.data.object
    assert (failed["status"], failed["amount_received"]) == ("requires_payment_method", 0)
    assert failed["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_the_processing_time_is_set_at_run_time(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    setting = f"{stripe_sandbox}/_sandbox/stripe/webhook"
    here = {"url": receiver.base_url + WEBHOOK_PATH}
    answer = httpx.post(setting, json=here | {"processing_delay_ms": 30_000}).json()
    try:
        assert answer["processing_delay_ms"] == 30_000
        intent, client = create(stripe_sandbox, SUCCEEDS_LATER, uuid.uuid4().hex)
        assert client.v1.payment_intents.retrieve(intent.id).status == "processing"
    finally:
        back = httpx.post(setting, json=here | {"processing_delay_ms": 100}).json()
        assert back["processing_delay_ms"] == 100
