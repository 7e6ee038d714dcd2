"""The payment page over fakes of its ports: what it shows, what each action records (once,
with the page as its source), and what it refuses (nothing recorded)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from dunning_core.runtime.clock import FixedClock
from dunning_portal.bootstrap import Ports, build
from dunning_portal.config import PortalSettings
from dunning_portal.domain.actions import form_token
from dunning_testkit.portal import (
    ACCOUNT,
    CARD_DECLINED,
    CARD_NO_FUNDS,
    CARD_OK,
    CARD_PENDING,
    NOW,
    PAYLINK_KEY,
    FakeProcessor,
    MemoryMoney,
    link,
    portal_app,
)

TOKEN = link()
FULL = {"amount_minor": "60000"}


def form(**fields: str) -> dict[str, str]:
    return {"csrf": form_token(PAYLINK_KEY, TOKEN), **fields}


def card(number: str = CARD_OK) -> dict[str, str]:
    return {"card_number": number, "card_expiry": "12/30", "card_cvc": "123", "postal_code": ""}


async def test_the_page_shows_creditor_balance_itemization_and_choices(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(f"/p/{TOKEN}")
    assert response.status_code == 200
    page = response.text
    for shown in (
        "Northwind Bank",
        # The balance, then its itemization since the itemization date.
        "$600.00",
        "As of November 1, 2025, you owed",
        "$575.00",
        "$15.00",
        "$10.00",
        # The choices.
        "Pay in full",
        "Pay part of it",
        "Choose a payment plan",
        "3 payments of $200.00, monthly",
        "Settle for less",
        "Promise to pay on a date",
        "Dispute this debt",
        "Stop text messages",
        "Please call me",
    ):
        assert shown in page, shown
    assert "debt collector" in page  # third party: the disclosure
    assert "<script" not in page
    assert "http://" not in page.replace("http://portal", "")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_language_from_the_account_and_from_the_switch(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    ledger.locale = "es_US"
    spanish = (await http.get(f"/p/{TOKEN}")).text
    assert '<html lang="es">' in spanish
    assert "Saldo adeudado" in spanish
    chinese = (await http.get(f"/p/{TOKEN}", params={"lang": "zh"})).text
    assert '<html lang="zh">' in chinese
    assert "应付余额" in chinese
    english = (await http.get(f"/p/{TOKEN}", params={"lang": "en"})).text
    assert "Balance due" in english
    assert (await http.get(f"/p/{TOKEN}", params={"lang": "fr"})).status_code == 422


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        (link(expires_at=NOW - timedelta(seconds=1)), 410, "This link has expired."),
        (link(key="someone-elses-key"), 403, "This link is not valid."),
        (TOKEN[:-3] + "AAA", 403, "This link is not valid."),
        ("garbage", 403, "This link is not valid."),
    ],
)
async def test_expired_or_forged_links_are_refused_and_record_nothing(
    http: httpx.AsyncClient, ledger: MemoryMoney, token: str, status: int, words: str
) -> None:
    shown = await http.get(f"/p/{token}")
    assert (shown.status_code, words in shown.text) == (status, True)
    assert "Northwind" not in shown.text
    assert "$600" not in shown.text
    posted = await http.post(f"/p/{token}/dispute", data={"csrf": form_token(PAYLINK_KEY, token)})
    assert posted.status_code == status
    assert ledger.writes == []


async def test_a_form_without_the_links_check_is_refused(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    assert (await http.post(f"/p/{TOKEN}/dispute", data={})).status_code == 403
    other = form_token(PAYLINK_KEY, link(account_id="ACC-OTHER"))
    assert (await http.post(f"/p/{TOKEN}/dispute", data={"csrf": other})).status_code == 403
    assert (await http.post(f"/p/{TOKEN}/nonsense", data=form())).status_code == 404
    assert ledger.writes == []


async def test_choose_a_plan_then_pay_the_first_installment(
    http: httpx.AsyncClient, ledger: MemoryMoney, processor: FakeProcessor
) -> None:
    chosen = await http.post(f"/p/{TOKEN}/plan", data=form(offer_id="plan-monthly-3"))
    assert chosen.status_code == 200
    assert "Your payment plan is agreed." in chosen.text
    assert "Pay the first payment now" in chosen.text
    again = await http.post(f"/p/{TOKEN}/plan", data=form(offer_id="plan-monthly-3"))
    assert again.status_code == 200
    [plan] = ledger.recorded("plan")
    assert plan["offer_id"] == "plan-monthly-3"
    assert plan["source"] == "page"
    assert plan["id"].startswith("pg-plan-")

    paid = await http.post(
        f"/p/{TOKEN}/pay", data=form(kind="installment", amount_minor="20000", **card())
    )
    assert paid.status_code == 200
    assert "We received your payment of $200.00." in paid.text
    assert "Balance left: $400.00" in paid.text
    [payment] = ledger.recorded("payment")
    assert re.fullmatch(r"pg-pay-[a-z2-7]{24}:ch_test_0001", payment.pop("id"))
    assert payment == {"amount_minor": 20_000, "method": "card", "source": "page"}
    assert ledger.plans[0].installments[0].status == "paid"
    [(_, amount, metadata)] = processor.charges.values()
    assert amount == 20_000
    assert metadata["account_id"] == ACCOUNT


async def test_a_double_submitted_payment_charges_and_records_once(
    http: httpx.AsyncClient, ledger: MemoryMoney, processor: FakeProcessor
) -> None:
    for _ in range(2):
        paid = await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card()))
        assert paid.status_code == 200
        assert "We received your payment of $600.00." in paid.text
    assert len(processor.charges) == 1
    assert [p["amount_minor"] for p in ledger.recorded("payment")] == [60_000]


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (CARD_DECLINED, "Your card was declined. No payment was taken."),
        (CARD_NO_FUNDS, "declined for insufficient funds"),
    ],
)
async def test_a_declined_card_says_so_and_records_nothing(
    http: httpx.AsyncClient, ledger: MemoryMoney, number: str, words: str
) -> None:
    response = await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card(number)))
    assert response.status_code == 402
    assert words in response.text
    assert ledger.writes == []


async def test_a_pending_charge_is_confirmed_later_and_not_recorded_now(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    response = await http.post(
        f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card(CARD_PENDING))
    )
    assert response.status_code == 200
    assert "We will confirm it." in response.text
    assert ledger.writes == []


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": "part", "amount": "abc"}, "Please enter an amount"),
        ({"kind": "part", "amount": "5"}, "between the smallest allowed"),
        ({"kind": "part", "amount": "700"}, "between the smallest allowed"),
        ({"kind": "installment", "amount_minor": "100"}, "no payment due on a plan"),
        ({"kind": "full"}, "Please enter an amount"),
        ({"kind": "full", "amount_minor": "50000"}, "The amount due has changed."),
        ({"kind": "bogus"}, "Please enter an amount"),
    ],
)
async def test_bad_amounts_are_refused_before_any_charge(
    http: httpx.AsyncClient,
    ledger: MemoryMoney,
    processor: FakeProcessor,
    fields: dict[str, str],
    words: str,
) -> None:
    response = await http.post(f"/p/{TOKEN}/pay", data=form(**fields, **card()))
    assert response.status_code == 422
    assert words in response.text
    assert processor.charges == {}
    assert ledger.writes == []


async def test_a_bad_card_is_refused_before_any_charge(
    http: httpx.AsyncClient, processor: FakeProcessor
) -> None:
    bad = {**card(), "card_number": "4242424242424241"}
    response = await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **bad))
    assert response.status_code == 422
    assert "check the card number" in response.text
    assert processor.charges == {}


async def test_part_payment(http: httpx.AsyncClient, ledger: MemoryMoney) -> None:
    response = await http.post(f"/p/{TOKEN}/pay", data=form(kind="part", amount="25,50", **card()))
    assert response.status_code == 200
    assert [p["amount_minor"] for p in ledger.recorded("payment")] == [2_550]


async def test_settlement_promise_dispute_opt_outs_and_call_back_record_once(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    due = (NOW.date() + timedelta(days=10)).isoformat()
    actions = [
        ("settle", {"offer_id": "settle-70"}, "Your settlement is agreed: pay $420.00"),
        ("promise", {"amount": "100", "due_on": due}, "promise to pay $100.00 on March 12, 2026"),
        ("dispute", {}, "We recorded your dispute."),
        ("opt_out", {"channel": "sms"}, "not send you text messages"),
        ("opt_out", {"channel": "email"}, "not send you emails"),
        ("call_back", {}, "We will call you back."),
    ]
    for action, fields, words in actions:
        for _ in range(2):
            response = await http.post(f"/p/{TOKEN}/{action}", data=form(**fields))
            assert response.status_code == 200, (action, response.text)
            assert words in response.text, action
    kinds = [(kind, body.get("kind"), body.get("channel")) for kind, _, body in ledger.writes]
    assert kinds == [
        ("settlement", None, None),
        ("promise", None, None),
        ("signal", "disputed", None),
        ("signal", "opted_out", "sms"),
        ("signal", "opted_out", "email"),
        ("note", None, None),
    ]


async def test_a_promise_in_the_past_or_beyond_the_balance_is_refused(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    past = (NOW.date() - timedelta(days=1)).isoformat()
    later = (NOW.date() + timedelta(days=1)).isoformat()
    for fields in ({"amount": "10", "due_on": past}, {"amount": "601", "due_on": later}):
        assert (await http.post(f"/p/{TOKEN}/promise", data=form(**fields))).status_code == 422
    assert (await http.post(f"/p/{TOKEN}/opt_out", data=form(channel="fax"))).status_code == 422
    assert ledger.writes == []


async def test_an_offer_gone_meanwhile_is_a_plain_message(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    response = await http.post(f"/p/{TOKEN}/plan", data=form(offer_id="plan-weekly-99"))
    assert response.status_code == 422
    assert "no longer available" in response.text
    assert ledger.writes == []


async def test_an_unknown_account_or_a_ledger_outage_is_a_plain_page(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    unknown = await http.get(f"/p/{link(account_id='ACC-NOPE')}")
    assert unknown.status_code == 404
    assert "could not find this account" in unknown.text
    ledger.fail_reads = True
    down = await http.get(f"/p/{TOKEN}")
    assert down.status_code == 503
    assert "not available right now" in down.text


async def test_a_disputed_charge_reverses_its_payment(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card()))
    [paid] = ledger.recorded("payment")
    body = "charge_disputed ch_test_0001"
    refused = await http.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": "x"})
    assert refused.status_code == 400
    assert ledger.recorded("reversal") == []
    for _ in range(2):
        taken = await http.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": "good"}
        )
        assert taken.status_code == 204
    assert ledger.recorded("reversal") == [
        {"id": paid["id"], "reason": "chargeback", "source": "processor"}
    ]
    assert ledger.payments[paid["id"]][2] is True
    await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card(CARD_PENDING)))
    pending = "charge_failed ch_test_0002"
    answer = await http.post(
        "/webhooks/stripe", content=pending, headers={"Stripe-Signature": "good"}
    )
    assert answer.status_code == 204  # a pending charge that failed recorded nothing
    foreign = await http.post(
        "/webhooks/stripe", content="charge_disputed ch_other", headers={"Stripe-Signature": "good"}
    )
    assert foreign.status_code == 204
    assert len(ledger.recorded("reversal")) == 1


async def test_without_a_verifier_the_webhook_asks_for_a_retry(ledger: MemoryMoney) -> None:
    app = portal_app(ledger)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as c:
        assert (await c.post("/webhooks/stripe", content=b"{}")).status_code == 503


async def test_logs_carry_no_card_digits_nor_token(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card(CARD_DECLINED)))
    await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card()))
    ours = [r for r in caplog.records if r.name.startswith(("dunning", "uvicorn"))]
    assert ours
    standard = set(vars(logging.makeLogRecord({})))
    text = "\n".join(
        f"{r.getMessage()} {[v for k, v in vars(r).items() if k not in standard]}" for r in ours
    )
    assert not re.search(r"\d{12,}", text)
    assert TOKEN not in text


class Unreachable:
    async def charge(self, **_: object) -> object:
        raise ConnectionError("processor down")

    async def read(self, payload: bytes, signature: str | None) -> None:
        raise ConnectionError("processor down")


async def test_a_processor_without_an_outcome_records_nothing(ledger: MemoryMoney) -> None:
    down = Unreachable()
    app = portal_app(ledger, down, webhooks=down)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as c:
        response = await c.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card()))
        assert response.status_code == 503
        assert "you will not be charged twice" in response.text
        hook = await c.post("/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": "x"})
        assert hook.status_code == 503
    assert ledger.writes == []


async def test_the_early_payment_discount_beside_paying_in_full(
    http: httpx.AsyncClient, ledger: MemoryMoney
) -> None:
    ledger.discount_minor = 54_000
    page = (await http.get(f"/p/{TOKEN}")).text
    assert "Pay $540.00 by March 9, 2026 and we will close the account." in page
    assert "Pay $600.00" in page
    paid = await http.post(
        f"/p/{TOKEN}/pay", data=form(kind="discount", amount_minor="54000", **card())
    )
    assert paid.status_code == 200
    assert [p["amount_minor"] for p in ledger.recorded("payment")] == [54_000]


async def test_without_a_card_processor_a_card_is_declined_and_nothing_recorded(
    ledger: MemoryMoney,
) -> None:
    """No processor configured (no Stripe key): the page still serves every other choice,
    and a card payment is declined as unavailable, nothing charged or recorded."""
    settings = PortalSettings(paylink_key=PAYLINK_KEY, ledger_url="http://127.0.0.1:9")
    assert settings.stripe_secret_key is None
    app = build(settings, Ports(ledger=ledger), FixedClock(NOW))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as http:
        assert (await http.get(f"/p/{TOKEN}")).status_code == 200
        response = await http.post(f"/p/{TOKEN}/pay", data=form(kind="full", **FULL, **card()))
    assert response.status_code == 402
    assert "Card payments are not available right now. No payment" in response.text
    assert ledger.writes == []
