"""The sandbox's Stripe over real HTTP: the official `stripe` SDK charges test cards, a
receiver gets the signed dispute events and `stripe.Webhook.construct_event` verifies them.
A delayed card's payment is answered `processing` and ends later, and a signed
`payment_intent.succeeded` or `payment_intent.payment_failed` tells the webhook endpoint, as
Stripe does for methods that settle later.

One sandbox and one receiver serve the module; each test tells its charges apart by a
metadata value of its own.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import orjson
import pytest
import stripe
from dunning_testkit.servers import WebhookRecorder
from dunning_testkit.stripe_cards import DECLINED_CARDS, DeclinedCard

SECRET_KEY = "sk_test_sandbox_stripe_tests"
WEBHOOK_SECRET = "whsec_sandbox_stripe_tests"
WEBHOOK_PATH = "/stripe/webhooks"
OK_CARD = "4242424242424242"
SUCCEEDS_LATER = "4000000000007700"
FAILS_LATER = "4000000000007718"


def client(base_url: str, *, key: str = SECRET_KEY, retries: int = 0, timeout: float = 10) -> Any:
    return stripe.StripeClient(
        key,
        base_addresses={"api": base_url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def card_params(number: str, test: str, **card: Any) -> Any:
    """`create` parameters for a confirmed card payment (raw card numbers are not in the
    SDK's parameter types, hence Any)."""
    return {
        "amount": 2_500,
        "currency": "usd",
        "confirm": True,
        "payment_method_types": ["card"],
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"} | card,
            "billing_details": {"address": {"postal_code": "94107"}},
        },
        "description": "Account ACC-1 payment",
        "metadata": {"account_id": "ACC-1", "test": test},
    }


def charges(base_url: str, test: str) -> list[dict[str, Any]]:
    listed = httpx.get(f"{base_url}/_sandbox/charges", params={"limit": 1000}).json()
    return [c for c in listed["charges"] if c["metadata"].get("test") == test]


def test_a_good_card_succeeds_and_only_its_last_four_digits_are_kept(stripe_sandbox: str) -> None:
    test = uuid.uuid4().hex
    intent = client(stripe_sandbox).v1.payment_intents.create(params=card_params(OK_CARD, test))
    assert intent.status == "succeeded"
    assert intent.id.startswith("pi_")
    assert intent.latest_charge.startswith("ch_")
    assert (intent.amount, intent.currency, intent.amount_received) == (2_500, "usd", 2_500)
    assert intent.metadata.to_dict() == {"account_id": "ACC-1", "test": test}
    again = client(stripe_sandbox).v1.payment_intents.retrieve(intent.id)
    assert (again.id, again.status) == (intent.id, "succeeded")

    [record] = charges(stripe_sandbox, test)
    assert record["card"] == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034}
    listed = httpx.get(f"{stripe_sandbox}/_sandbox/charges").text
    assert OK_CARD not in listed
    assert '"123"' not in listed


PROCESSING_ERROR = DeclinedCard(
    "4000000000000119", "processing_error", "Try again", "processing_error"
)


@pytest.mark.parametrize("card", [*DECLINED_CARDS, PROCESSING_ERROR], ids=lambda c: c.decline_code)
def test_a_declined_card_is_a_402_card_error_and_its_intent_stays_unpaid(
    stripe_sandbox: str, card: DeclinedCard
) -> None:
    test = uuid.uuid4().hex
    code, decline_code = card.code, card.decline_code
    with pytest.raises(stripe.CardError) as raised:
        client(stripe_sandbox).v1.payment_intents.create(params=card_params(card.number, test))
    error = raised.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code if error.error else None) == (code, decline_code)
    assert card.message in (error.user_message or "")
    body = cast(dict[str, Any], error.json_body)["error"]
    assert body["type"] == "card_error"
    intent_id = body["payment_intent"]["id"]
    intent = client(stripe_sandbox).v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None
    assert intent.last_payment_error.code == code
    [record] = charges(stripe_sandbox, test)
    assert (record["status"], record["decline_code"]) == ("requires_payment_method", decline_code)


def test_a_card_that_needs_authentication_requires_action(stripe_sandbox: str) -> None:
    test = uuid.uuid4().hex
    intent = client(stripe_sandbox).v1.payment_intents.create(
        params=card_params("4000002500003155", test)
    )
    assert intent.status == "requires_action"
    assert intent.next_action is not None
    assert intent.latest_charge is None
    [record] = charges(stripe_sandbox, test)
    assert record["status"] == "requires_action"


@pytest.mark.parametrize(
    ("card", "code", "param"),
    [
        ({"number": "4242424242424241"}, "incorrect_number", "number"),
        ({"number": "4242-4242"}, "invalid_number", "number"),
        ({"exp_month": 13}, "invalid_expiry_month", "exp_month"),
        ({"exp_year": 2001}, "invalid_expiry_year", "exp_year"),
        ({"cvc": "12"}, "invalid_cvc", "cvc"),
    ],
)
def test_a_malformed_card_is_refused_before_any_intent_exists(
    stripe_sandbox: str, card: dict[str, Any], code: str, param: str
) -> None:
    test = uuid.uuid4().hex
    number = card.pop("number", OK_CARD)
    with pytest.raises(stripe.CardError) as raised:
        client(stripe_sandbox).v1.payment_intents.create(params=card_params(number, test, **card))
    assert (raised.value.http_status, raised.value.code) == (402, code)
    assert raised.value.param == param
    assert charges(stripe_sandbox, test) == []


def test_invalid_requests_name_the_parameter(stripe_sandbox: str) -> None:
    payments = client(stripe_sandbox).v1.payment_intents
    too_small = card_params(OK_CARD, "small") | {"amount": 20}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        payments.create(params=too_small)
    assert (raised.value.http_status, raised.value.code) == (400, "amount_too_small")
    no_currency = {k: v for k, v in card_params(OK_CARD, "x").items() if k != "currency"}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        payments.create(params=no_currency)
    assert (raised.value.code, raised.value.param) == ("parameter_missing", "currency")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        payments.retrieve("pi_doesnotexist")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_the_same_idempotency_key_gets_the_same_answer(stripe_sandbox: str) -> None:
    test, key = uuid.uuid4().hex, uuid.uuid4().hex
    payments = client(stripe_sandbox).v1.payment_intents
    first = payments.create(params=card_params(OK_CARD, test), options={"idempotency_key": key})
    second = payments.create(params=card_params(OK_CARD, test), options={"idempotency_key": key})
    assert second.id == first.id
    assert second.last_response.headers["idempotent-replayed"] == "true"
    assert len(charges(stripe_sandbox, test)) == 1
    other = card_params(OK_CARD, test) | {"amount": 9_999}
    with pytest.raises(stripe.IdempotencyError):
        payments.create(params=other, options={"idempotency_key": key})

    decline_key = uuid.uuid4().hex
    declined = card_params("4000000000000002", test)
    ids = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            payments.create(params=declined, options={"idempotency_key": decline_key})
        ids.append(cast(dict[str, Any], raised.value.json_body)["error"]["payment_intent"]["id"])
    assert ids[0] == ids[1]
    assert len(charges(stripe_sandbox, test)) == 2


def test_only_the_secret_key_is_let_in(stripe_sandbox: str) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        client(stripe_sandbox, key="sk_test_wrong").v1.payment_intents.create(
            params=card_params(OK_CARD, "auth")
        )
    assert raised.value.http_status == 401
    assert "sk_test_wrong" not in str(raised.value)
    bare = httpx.get(f"{stripe_sandbox}/v1/payment_intents/pi_x")
    assert bare.status_code == 401
    assert bare.json()["error"]["type"] == "invalid_request_error"
    basic = httpx.get(f"{stripe_sandbox}/v1/payment_intents/pi_x", auth=(SECRET_KEY, ""))
    assert basic.status_code == 404


def test_create_then_confirm(stripe_sandbox: str) -> None:
    test = uuid.uuid4().hex
    auth = {"Authorization": f"Bearer {SECRET_KEY}"}
    created = httpx.post(
        f"{stripe_sandbox}/v1/payment_intents",
        data={"amount": "700", "currency": "usd", "metadata[test]": test},
        headers=auth,
    ).json()
    assert created["status"] == "requires_payment_method"
    card = {
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "4000000000009995",
        "payment_method_data[card][exp_month]": "1",
        "payment_method_data[card][exp_year]": "2040",
    }
    url = f"{stripe_sandbox}/v1/payment_intents/{created['id']}/confirm"
    declined = httpx.post(url, data=card, headers=auth)
    assert declined.status_code == 402
    card["payment_method_data[card][number]"] = OK_CARD
    confirmed = httpx.post(url, data=card, headers=auth)
    assert confirmed.json()["status"] == "succeeded"
    assert httpx.post(url, data=card, headers=auth).status_code == 400  # already succeeded


def test_the_dispute_card_succeeds_then_a_signed_dispute_event_arrives(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    test = uuid.uuid4().hex
    intent = client(stripe_sandbox).v1.payment_intents.create(
        params=card_params("4000000000000259", test)
    )
    assert intent.status == "succeeded"

    def for_intent(requests: list[Any]) -> list[Any]:
        return [
            r
            for r in requests
            if orjson.loads(r.body)["data"]["object"]["payment_intent"] == intent.id
        ]

    [delivery] = for_intent(receiver.wait_for(lambda rs: bool(for_intent(rs)), WEBHOOK_PATH))
    signature = delivery.headers["stripe-signature"]
    event = stripe.Webhook.construct_event(delivery.body, signature, WEBHOOK_SECRET)
    assert event.type == "charge.dispute.created"
    dispute = event.data.object
    assert (dispute["charge"], dispute["amount"]) == (intent.latest_charge, 2_500)
    assert dispute["reason"] == "fraudulent"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body + b" ", signature, WEBHOOK_SECRET)
    [record] = charges(stripe_sandbox, test)
    assert record["disputed"] is True
    assert record["dispute_id"] == dispute["id"]


def test_the_control_api_disputes_a_succeeded_payment_once(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    payments = client(stripe_sandbox).v1.payment_intents
    paid = payments.create(params=card_params(OK_CARD, uuid.uuid4().hex))
    url = f"{stripe_sandbox}/_sandbox/stripe/disputes"
    opened = httpx.post(url, json={"payment_intent": paid.id})
    assert opened.status_code == 202
    dispute_id = opened.json()["dispute_id"]

    def disputed(requests: list[Any]) -> bool:
        return any(dispute_id.encode() in r.body for r in requests)

    receiver.wait_for(disputed, WEBHOOK_PATH)
    assert httpx.post(url, json={"payment_intent": paid.id}).status_code == 409
    assert httpx.post(url, json={"payment_intent": "pi_unknown"}).status_code == 404


def test_the_webhook_endpoint_is_changed_at_run_time(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    setting = f"{stripe_sandbox}/_sandbox/stripe/webhook"
    other = {"url": receiver.base_url + "/other", "secret": "whsec_rotated", "dispute_delay_ms": 0}
    assert httpx.post(setting, json={"url": "https://example.com/hook"}).status_code == 400
    assert httpx.post(setting, json=other).json()["dispute_delay_ms"] == 0
    try:
        intent = client(stripe_sandbox).v1.payment_intents.create(
            params=card_params("4000000000000259", uuid.uuid4().hex)
        )

        def mine(requests: list[Any]) -> list[Any]:
            return [r for r in requests if intent.id.encode() in r.body]

        [delivery] = mine(receiver.wait_for(lambda rs: bool(mine(rs)), "/other"))
        signature = delivery.headers["stripe-signature"]
        event = stripe.Webhook.construct_event(delivery.body, signature, "whsec_rotated")
        assert event.data.object["payment_intent"] == intent.id
    finally:
        back = {"url": receiver.base_url + WEBHOOK_PATH, "secret": WEBHOOK_SECRET}
        httpx.post(setting, json=back | {"dispute_delay_ms": 50})


def test_a_5xx_fault_is_retried_by_the_sdk_with_its_idempotency_key(stripe_sandbox: str) -> None:
    test, number = uuid.uuid4().hex, "4000056655665556"
    fault = {"destinations": [number], "status": 500, "times": 1}
    assert httpx.post(f"{stripe_sandbox}/_sandbox/faults", json=fault).status_code == 201
    intent = client(stripe_sandbox, retries=1).v1.payment_intents.create(
        params=card_params(number, test)
    )
    assert intent.status == "succeeded"
    assert len(charges(stripe_sandbox, test)) == 1
    assert httpx.get(f"{stripe_sandbox}/_sandbox/faults").json() == {"faults": {}}  # it was met


def test_a_429_fault_says_when_to_come_back(stripe_sandbox: str) -> None:
    number = "5555555555554444"
    fault = {"destinations": [number], "status": 429, "retry_after_s": 2, "times": 1}
    httpx.post(f"{stripe_sandbox}/_sandbox/faults", json=fault)
    with pytest.raises(stripe.RateLimitError) as raised:
        client(stripe_sandbox).v1.payment_intents.create(params=card_params(number, "rate"))
    assert raised.value.http_status == 429
    assert raised.value.headers is not None
    assert raised.value.headers["retry-after"] == "2"


def test_a_lost_answer_is_recovered_by_the_retry_with_the_same_key(stripe_sandbox: str) -> None:
    test, number = uuid.uuid4().hex, "4012888888881881"
    fault = {"destinations": [number], "hang_s": 2, "times": 1}
    httpx.post(f"{stripe_sandbox}/_sandbox/faults", json=fault)
    payments = client(stripe_sandbox, retries=2, timeout=0.5).v1.payment_intents
    intent = payments.create(params=card_params(number, test))
    assert intent.status == "succeeded"
    [record] = charges(stripe_sandbox, test)
    assert record["id"] == intent.id
    assert httpx.get(f"{stripe_sandbox}/_sandbox/faults").json() == {"faults": {}}  # it was met


# --- delayed cards ---------------------------------------------------------------------


def event_for(receiver: WebhookRecorder, intent_id: str) -> stripe.Event:
    def mine(requests: list[Any]) -> list[Any]:
        return [r for r in requests if orjson.loads(r.body)["data"]["object"]["id"] == intent_id]

    [delivery] = mine(receiver.wait_for(lambda rs: bool(mine(rs)), WEBHOOK_PATH))
    signature = delivery.headers["stripe-signature"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, signature, "whsec_someone_else")
    event: stripe.Event = stripe.Webhook.construct_event(delivery.body, signature, WEBHOOK_SECRET)
    return event  # construct_event is unannotated in stripe: Any, an Event at run time


def test_a_processing_payment_succeeds_later_and_a_signed_event_says_so(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    test = uuid.uuid4().hex
    payments = client(stripe_sandbox).v1.payment_intents
    intent = payments.create(params=card_params(SUCCEEDS_LATER, test))
    assert (intent.status, intent.amount_received) == ("processing", 0)
    assert intent.latest_charge is not None

    event = event_for(receiver, intent.id)
    assert event.type == "payment_intent.succeeded"
    settled = event.data.object
    assert (settled["status"], settled["amount_received"]) == ("succeeded", 2_500)
    assert settled["metadata"].to_dict() == {"account_id": "ACC-1", "test": test}
    assert settled["latest_charge"] == intent.latest_charge
    assert payments.retrieve(intent.id).status == "succeeded"
    assert [c["status"] for c in charges(stripe_sandbox, test)] == ["succeeded"]


def test_a_processing_payment_fails_later_and_a_signed_event_says_why(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    payments = client(stripe_sandbox).v1.payment_intents
    intent = payments.create(params=card_params(FAILS_LATER, uuid.uuid4().hex))
    assert intent.status == "processing"

    event = event_for(receiver, intent.id)
    assert event.type == "payment_intent.payment_failed"
    failed = event.data.object
    assert (failed["status"], failed["amount_received"]) == ("requires_payment_method", 0)
    assert failed["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert payments.retrieve(intent.id).status == "requires_payment_method"


def test_the_processing_time_is_set_at_run_time(
    stripe_sandbox: str, receiver: WebhookRecorder
) -> None:
    setting = f"{stripe_sandbox}/_sandbox/stripe/webhook"
    here = {"url": receiver.base_url + WEBHOOK_PATH}
    answer = httpx.post(setting, json=here | {"processing_delay_ms": 30_000}).json()
    try:
        assert answer["processing_delay_ms"] == 30_000
        payments = client(stripe_sandbox).v1.payment_intents
        intent = payments.create(params=card_params(SUCCEEDS_LATER, uuid.uuid4().hex))
        assert payments.retrieve(intent.id).status == "processing"
    finally:
        back = httpx.post(setting, json=here | {"processing_delay_ms": 100}).json()
        assert back["processing_delay_ms"] == 100
