"""The Stripe adapter against the provider sandbox over real HTTP (official SDK, async httpx).

One sandbox serves the module; each test tells its charges apart by a metadata value (and
fault tests by a card number) of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from typing import Any

import httpx
import pytest
from dunning_portal.adapters.stripe_processor import (
    ProcessorRefused,
    ProcessorUnavailable,
    StripeProcessor,
)
from dunning_portal.ports import CardDetails, Charge, ChargeRequest
from dunning_testkit.stripe_cards import DECLINED_CARDS, DeclinedCard

SECRET_KEY = "sk_test_portal_processor_tests"
OK_CARD = "4242424242424242"


# The settings of the testkit's `sandbox` fixture (one sandbox for the module).
SANDBOX_SETTINGS = {"stripe_secret_key": SECRET_KEY}


def processor(base_url: str, **options: Any) -> StripeProcessor:
    settings: dict[str, Any] = {"secret_key": SECRET_KEY, "max_network_retries": 0}
    settings.update(options)
    return StripeProcessor(api_base=base_url, **settings)


def card(number: str = OK_CARD, **fields: Any) -> CardDetails:
    values: dict[str, Any] = {"exp_month": 12, "exp_year": 2034, "cvc": "123", "postal_code": None}
    values.update(fields)
    return CardDetails(number=number, **values)


def request(
    test: str, number: str = OK_CARD, key: str | None = None, **changes: Any
) -> ChargeRequest:
    """A charge of 123.45 USD on ACC-7, told apart by ``test``; ``changes`` replace fields."""
    made = ChargeRequest(
        idempotency_key=key or uuid.uuid4().hex,
        amount_minor=12_345,
        currency="USD",
        card=card(number),
        description="Payment on ACC-7",
        metadata={"account_id": "ACC-7", "test": test},
    )
    return dataclasses.replace(made, **changes)


async def pay(
    payments: StripeProcessor, test: str, number: str = OK_CARD, key: str | None = None
) -> Charge:
    return await payments.charge(request(test, number, key))


def charges(base_url: str, test: str) -> list[dict[str, Any]]:
    listed = httpx.get(f"{base_url}/_sandbox/charges", params={"limit": 1000}).json()
    return [c for c in listed["charges"] if c["metadata"].get("test") == test]


def set_fault(base_url: str, **fault: Any) -> None:
    assert httpx.post(f"{base_url}/_sandbox/faults", json=fault).status_code == 201


async def test_a_good_card_is_charged_with_the_key_and_metadata(sandbox: str) -> None:
    test, key = uuid.uuid4().hex, uuid.uuid4().hex
    async with processor(sandbox) as payments:
        charge = await pay(payments, test, key=key)
        assert charge == Charge(charge.processor_id, "succeeded", None, None)
        assert charge.processor_id.startswith("pi_")
        assert await payments.payment_metadata(charge.processor_id) == {
            "account_id": "ACC-7",
            "test": test,
        }
    [record] = charges(sandbox, test)
    assert (record["id"], record["idempotency_key"]) == (charge.processor_id, key)
    assert (record["amount"], record["currency"], record["card"]["last4"]) == (
        12_345,
        "usd",
        "4242",
    )
    assert record["description"] == "Payment on ACC-7"


@pytest.mark.parametrize("card", DECLINED_CARDS, ids=lambda c: c.decline_code)
async def test_a_declined_card_is_a_declined_charge(sandbox: str, card: DeclinedCard) -> None:
    test = uuid.uuid4().hex
    async with processor(sandbox) as payments:
        charge = await pay(payments, test, card.number)
    assert (charge.status, charge.decline_code, charge.message) == (
        "declined",
        card.decline_code,
        card.message,
    )
    [record] = charges(sandbox, test)
    assert record["id"] == charge.processor_id
    assert record["status"] == "requires_payment_method"


async def test_a_malformed_card_is_declined_without_a_payment_intent(sandbox: str) -> None:
    test = uuid.uuid4().hex
    async with processor(sandbox) as payments:
        wrong_digit = await pay(payments, test, "4242424242424241")
        two_digit_cvc = await payments.charge(
            ChargeRequest(
                idempotency_key=uuid.uuid4().hex,
                amount_minor=5_000,
                currency="usd",
                card=card(cvc="12", postal_code="94107"),
                description="Payment",
                metadata={"test": test},
            )
        )
    assert (wrong_digit.status, wrong_digit.decline_code) == ("declined", "incorrect_number")
    assert wrong_digit.processor_id == ""
    assert (two_digit_cvc.status, two_digit_cvc.decline_code) == ("declined", "invalid_cvc")
    assert charges(sandbox, test) == []


async def test_a_card_that_needs_authentication_is_pending(sandbox: str) -> None:
    async with processor(sandbox) as payments:
        charge = await pay(payments, uuid.uuid4().hex, "4000002500003155")
    assert charge.status == "pending"
    assert charge.processor_id.startswith("pi_")


async def test_the_same_idempotency_key_charges_once(sandbox: str) -> None:
    test, key = uuid.uuid4().hex, uuid.uuid4().hex
    async with processor(sandbox) as payments:
        first, again = await pay(payments, test, key=key), await pay(payments, test, key=key)
        assert again == first
        with pytest.raises(ProcessorRefused) as refused:  # the key with another amount
            await payments.charge(request(test, key=key, amount_minor=1_000, currency="usd"))
    assert refused.value.http_status == 400
    assert len(charges(sandbox, test)) == 1


async def test_a_5xx_is_retried_by_the_sdk(sandbox: str) -> None:
    test, number = uuid.uuid4().hex, "4000056655665556"
    set_fault(sandbox, destinations=[number], status=503, times=1)
    async with processor(sandbox, max_network_retries=1) as payments:
        charge = await pay(payments, test, number)
    assert charge.status == "succeeded"
    assert len(charges(sandbox, test)) == 1


async def test_a_5xx_still_failing_after_the_retries_is_unavailable(sandbox: str) -> None:
    test, number = uuid.uuid4().hex, "5555555555554444"
    set_fault(sandbox, destinations=[number], status=500, times=2)
    async with processor(sandbox, max_network_retries=1) as payments:
        with pytest.raises(ProcessorUnavailable) as unavailable:
            await pay(payments, test, number)
        assert unavailable.value.kind == "server_error"
        assert charges(sandbox, test) == []
        assert (await pay(payments, test, number)).status == "succeeded"  # later, it passes


async def test_a_429_is_unavailable_with_its_retry_after(sandbox: str) -> None:
    number = "5200828282828210"
    set_fault(sandbox, destinations=[number], status=429, retry_after_s=3, times=1)
    async with processor(sandbox) as payments:
        with pytest.raises(ProcessorUnavailable) as unavailable:
            await pay(payments, uuid.uuid4().hex, number)
    assert (unavailable.value.kind, unavailable.value.retry_after_s) == ("rate_limited", 3.0)


async def test_a_lost_answer_is_recovered_with_the_same_key(sandbox: str) -> None:
    test, number, key = uuid.uuid4().hex, "4012888888881881", uuid.uuid4().hex
    set_fault(sandbox, destinations=[number], hang_s=1.5, times=1)
    async with processor(sandbox, timeout_s=0.3) as payments:
        with pytest.raises(ProcessorUnavailable) as unavailable:  # charged, answer lost
            await pay(payments, test, number, key=key)
        assert unavailable.value.kind == "network"
        await asyncio.sleep(1.3)
        charge = await pay(payments, test, number, key=key)
    [record] = charges(sandbox, test)
    assert (charge.status, charge.processor_id) == ("succeeded", record["id"])


async def test_no_processor_listening_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    async with processor(closed) as payments:
        with pytest.raises(ProcessorUnavailable) as unavailable:
            await pay(payments, "closed")
    assert unavailable.value.kind == "network"


async def test_a_wrong_key_or_an_unknown_payment_is_refused(sandbox: str) -> None:
    async with processor(sandbox, secret_key="sk_test_revoked") as payments:
        with pytest.raises(ProcessorRefused) as refused:
            await pay(payments, "auth")
    assert refused.value.http_status == 401
    assert "sk_test_revoked" not in str(refused.value)
    async with processor(sandbox) as payments:
        with pytest.raises(ProcessorRefused) as missing:
            await payments.payment_metadata("pi_unknown")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


async def test_an_invalid_request_is_refused_without_the_card_in_the_error(sandbox: str) -> None:
    async with processor(sandbox) as payments:
        with pytest.raises(ProcessorRefused) as refused:
            await payments.charge(
                request("small", amount_minor=10, currency="usd", metadata={"test": "small"})
            )
    assert (refused.value.http_status, refused.value.code) == (400, "amount_too_small")
    assert OK_CARD not in str(refused.value)
    assert OK_CARD[-4:] not in repr(refused.value.args)
