"""The processor's word on a charge after the page answered, over fakes of the ports: a
pending charge that succeeds later is recorded once (the id the page would have used, so a
charge confirmed both at once and by webhook is one payment); one that fails records nothing."""

from __future__ import annotations

import httpx
from dunning_portal.domain.actions import form_token
from dunning_testkit.portal import (
    CARD_FAILS_LATER,
    CARD_OK,
    CARD_SUCCEEDS_LATER,
    PAYLINK_KEY,
    FakeProcessor,
    MemoryMoney,
    link,
)

TOKEN = link()


async def pay_part(http: httpx.AsyncClient, number: str) -> httpx.Response:
    fields = {
        "csrf": form_token(PAYLINK_KEY, TOKEN),
        "kind": "part",
        "amount": "25.50",
        "card_number": number,
        "card_expiry": "12/30",
        "card_cvc": "123",
    }
    return await http.post(f"/p/{TOKEN}/pay", data=fields)


async def webhook(http: httpx.AsyncClient, kind: str, processor_id: str) -> None:
    sent = await http.post(
        "/webhooks/stripe",
        content=f"{kind} {processor_id}".encode(),
        headers={"stripe-signature": "good"},
    )
    assert sent.status_code == 204


async def pay_then_hear(
    http: httpx.AsyncClient, processor: FakeProcessor, number: str, page_says: str, kind: str
) -> None:
    """Pay with `number`, check what the page says, then deliver the processor's `kind`
    event for the one charge made."""
    response = await pay_part(http, number)
    assert page_says in response.text
    [(charge, _, _)] = processor.charges.values()
    await webhook(http, kind, charge.processor_id)


async def test_a_pending_charge_that_succeeds_later_is_recorded_once(
    http: httpx.AsyncClient, ledger: MemoryMoney, processor: FakeProcessor
) -> None:
    response = await pay_part(http, CARD_SUCCEEDS_LATER)
    assert "We will confirm it." in response.text
    assert ledger.recorded("payment") == []
    [(charge, _, metadata)] = processor.charges.values()
    for _ in range(2):  # Stripe delivers an event at least once
        await webhook(http, "charge_succeeded", charge.processor_id)
    [payment] = ledger.recorded("payment")
    assert payment["id"] == f"{metadata['payment_key']}:{charge.processor_id}"
    assert (payment["amount_minor"], payment["method"], payment["source"]) == (
        2_550,
        "card",
        "processor",
    )
    # The page again (a second submit of the form): the payment is there, nothing new.
    again = await pay_part(http, CARD_SUCCEEDS_LATER)
    assert again.status_code == 200
    assert len(ledger.recorded("payment")) == 1


async def test_a_charge_confirmed_at_once_and_by_webhook_is_one_payment(
    http: httpx.AsyncClient, ledger: MemoryMoney, processor: FakeProcessor
) -> None:
    await pay_then_hear(
        http, processor, CARD_OK, "We received your payment of $25.50.", "charge_succeeded"
    )
    [payment] = ledger.recorded("payment")
    assert payment["source"] == "page"


async def test_a_pending_charge_that_fails_later_records_nothing(
    http: httpx.AsyncClient, ledger: MemoryMoney, processor: FakeProcessor
) -> None:
    await pay_then_hear(http, processor, CARD_FAILS_LATER, "We will confirm it.", "charge_failed")
    assert ledger.recorded("payment") == []
    assert ledger.writes == []
