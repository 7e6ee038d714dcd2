"""Paying from the link in a text that was really sent (issue 11), every service a process.

An account is imported; the scheduler plans its first text, the gate allows it, and the sms
worker sends it through the Twilio SDK to the provider sandbox. The test reads the delivered
body from the sandbox's message log (``GET /_sandbox/messages``), takes the pay link out of
it and opens it in Chromium (Debian's, driven by Playwright): it pays part of the balance
with 4242 4242 4242 4242 on the portal, which charges the sandbox's Stripe. The payment is in
the ledger with the page as its source, and ``payment.received.v1`` is on payments.v1.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import ADMIN_KEY, auth_headers, service_url
from dunning_testkit.portal import ARTIFACTS, CARD_OK, CHROMIUM, needs_chromium
from playwright.async_api import async_playwright

from .conftest import payments_consumer, services_running

pytestmark = [pytest.mark.e2e, needs_chromium]

LEDGER, SANDBOX, PORTAL = (service_url(s) for s in ("ledger", "sandbox", "portal"))
ACCOUNT = "PAY-TEXT-1"
PHONE = "+12125559871"


@pytest.fixture(scope="module")
def pay_pipeline(stack: None) -> Iterator[str]:
    """The pipeline of conftest's, with the portal charging the sandbox's Stripe and the
    scheduler linking to it (what ``make up`` sets without live credentials)."""
    prefix = f"pay{uuid.uuid4().hex[:6]}."
    settings = {
        "DUNNING_SCHEDULER_PAYMENTS_URL": PORTAL,
        "DUNNING_PAYLINK_KEY": f"e2e-paylink-{prefix}",
        "DUNNING_PORTAL_LEDGER_API_KEY": ADMIN_KEY,
        "DUNNING_PORTAL_STRIPE_SECRET_KEY": "sk_test_sandbox",
        "DUNNING_PORTAL_STRIPE_API_BASE": SANDBOX,
        "DUNNING_STRIPE_WEBHOOK_SECRET": "whsec_sandbox",
        "DUNNING_SANDBOX_STRIPE_WEBHOOK_URL": f"{PORTAL}/webhooks/stripe",
    }
    with services_running(prefix, 6, settings):
        yield prefix


def account_row() -> dict[str, str]:
    """A New York account (10:30 there at the clock's start: the text goes at once)."""
    row = next(r for r in sample_rows(40, seed=5) if r["state"] == "NY")
    return {
        **row,
        "account_id": ACCOUNT,
        "debt_id": f"{ACCOUNT}-D",
        "phone": PHONE,
        "locale": "en_US",
        "medical": "false",
        "legal_action_authorized": "false",
        "limitation_date": "2030-01-01",
    }


async def delivered_link(sandbox: httpx.AsyncClient) -> str:
    """The pay link in the text the sandbox took for the account's phone."""
    pattern = re.compile(rf"{re.escape(PORTAL)}/p/[A-Za-z0-9_-]+")
    async with asyncio.timeout(180):
        while True:
            listed = await sandbox.get("/_sandbox/messages", params={"channel": "sms"})
            bodies = [m["body"] for m in listed.json()["messages"] if m["to"] == PHONE]
            links = [found.group(0) for b in bodies if (found := pattern.search(b))]
            if links:
                return links[-1]  # newest first: the first text is the last
            await asyncio.sleep(2)


async def payments_received(prefix: str) -> list[dict[str, Any]]:
    """payment.received.v1 of the account on the run's payments.v1, once one is there."""
    consumer = payments_consumer(prefix, "pay-text-e2e")
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            async for record in consumer:
                headers = {k: v.decode() for k, v in record.headers}
                data = orjson.loads(record.value or b"{}")
                if headers["ce_type"] == "payment.received.v1" and data["account_id"] == ACCOUNT:
                    found.append(data)
                    return found
    finally:
        await consumer.stop()
    return found


async def test_a_consumer_pays_from_the_link_in_a_delivered_text(pay_pipeline: str) -> None:
    async with (
        httpx.AsyncClient(base_url=LEDGER, timeout=60, headers=auth_headers()) as ledger,
        httpx.AsyncClient(base_url=SANDBOX, timeout=60) as sandbox,
    ):
        imported = await ledger.post(
            "/v1/accounts/import",
            content=to_csv([account_row()]).encode(),
            headers={"content-type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        link = await delivered_link(sandbox)

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
            try:
                page = await browser.new_page(viewport={"width": 390, "height": 844})
                opened = await page.goto(link)
                assert opened is not None
                assert opened.status == 200
                assert ACCOUNT in await page.content()
                await page.click("summary:text-is('Pay part of it')")
                await page.fill("#pay-part-amount", "20.00")
                await page.fill("#pay-part-number", CARD_OK)
                await page.fill("#pay-part-expiry", "12/30")
                await page.fill("#pay-part-cvc", "123")
                await page.fill("#pay-part-postal", "10001")
                await page.click("#pay-part button[type=submit]")
                outcome = await page.get_by_test_id("outcome").inner_text()
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "e2e-paid-from-text-390x844.png"))
            finally:
                await browser.close()
        assert "We received your payment of $20.00." in outcome

        money = (await ledger.get(f"/v1/accounts/{ACCOUNT}/money")).json()
        [payment] = money["payments"]
        assert (payment["amount_minor"], payment["method"], payment["source"]) == (
            2_000,
            "card",
            "page",
        )
        charges = (await sandbox.get("/_sandbox/charges")).json()["charges"]
        [charge] = [c for c in charges if c["metadata"].get("account_id") == ACCOUNT]
        assert payment["payment_id"].endswith(":" + charge["id"])

    [received] = await payments_received(pay_pipeline)
    assert (received["payment_id"], received["source"]) == (payment["payment_id"], "page")
    assert received["amount"]["amount_minor"] == 2_000
