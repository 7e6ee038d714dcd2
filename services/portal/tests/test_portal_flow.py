"""The whole payment loop in a real browser, on the shared stack: the portal (its own key of
role ``portal``) in front of a real ledger (in-process, fresh PostgreSQL database, outbox
relayed to Kafka) and the provider sandbox's Stripe, charged through the Stripe adapter.

Open the link in the text the scheduler renders -> choose a plan -> pay the first
installment with 4242 4242 4242 4242: the plan and the payment are in the ledger with the
page as their source, and plan.agreed and payment.received are on payments.v1. A card the
sandbox disputes later is reversed (chargeback). A card that is `processing` is recorded
once the sandbox's signed ``payment_intent.succeeded`` arrives (once, however often it comes),
one that fails later never. An expired and a forged link are refused, nothing recorded.
Screenshots of each page at 390x844 and 1280x800 under .state/artifacts/portal/
(``flow-*``).
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from dunning_core import paylink
from dunning_core.contracts.common import Channel
from dunning_core.contracts.topics import PAYMENTS
from dunning_ledger.bootstrap import build_ledger
from dunning_portal.bootstrap import build as build_portal
from dunning_portal.config import PortalSettings
from dunning_sandbox.signing import stripe_signature
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.planning import plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.ledger import import_row, read_topic, settings_for, to_csv
from dunning_testkit.paths import auth_headers
from dunning_testkit.portal import (
    ARTIFACTS,
    CARD_DISPUTED_LATER,
    CARD_FAILS_LATER,
    CARD_OK,
    CARD_SUCCEEDS_LATER,
    CHROMIUM,
    VIEWPORTS,
    needs_chromium,
)
from dunning_testkit.scheduler import IDENTITY, account_opened
from dunning_testkit.servers import BackgroundServer, sandbox_server
from playwright.async_api import Page, async_playwright

pytestmark = [
    pytest.mark.integration,
    needs_chromium,
    pytest.mark.skipif(
        importlib.util.find_spec("dunning_ledger.money") is None,
        reason="the ledger's money API (branch money) is not merged yet",
    ),
]

KEY = "paylink-key-of-the-portal-flow"
STRIPE_KEY = "sk_test_portal_flow"
WEBHOOK_SECRET = "whsec_portal_flow"
STEP = "stp_00000000-0000-5000-8000-0000000000aa"
POLICY = default_policy()


@dataclass
class Loop:
    portal: str
    ledger: httpx.AsyncClient
    topics: str
    sandbox: str

    def texted_link(self, account_id: str) -> str:
        """The link in the first text the scheduler renders for the account (its own
        renderer and key: what the consumer receives)."""
        now = datetime.now(UTC)
        opened = account_opened(account_id, at=now)
        case = reactions.on_account(None, opened, POLICY, now)
        assert case is not None
        assert case.next_step_at is not None
        renderer = Renderer(replace(IDENTITY, payments_url=self.portal, paylink_key=KEY))
        draft = next(d for d in plan_due(case, POLICY, case.next_step_at).drafts
                     if d.channel == Channel.SMS)  # fmt: skip
        assert case.consumer is not None
        assert case.debt is not None
        body = renderer.render(draft, case.consumer, case.debt).body
        found = re.search(rf"{re.escape(self.portal)}/p/[A-Za-z0-9_-]+", body)
        assert found is not None, body
        return found.group(0)

    def link(self, account_id: str, *, expires_in: timedelta = timedelta(days=30)) -> str:
        token = paylink.sign(account_id, STEP, datetime.now(UTC) + expires_in, KEY)
        return f"{self.portal}/p/{token}"

    async def drain_sandbox(self) -> None:
        """Until every sandbox timer fired and every webhook it sent was answered."""
        async with httpx.AsyncClient(base_url=self.sandbox, timeout=130) as sandbox:
            drained = await sandbox.post("/_sandbox/drain", params={"timeout_s": 120})
            assert drained.json()["drained"] is True, drained.text

    async def money(self, account_id: str) -> dict[str, Any]:
        response = await self.ledger.get(f"/v1/accounts/{account_id}/money")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def loop(topics: str, fresh_database: Callable[[str], Awaitable[str]]) -> AsyncIterator[Loop]:
    ledger_settings = settings_for(topics, await fresh_database("ledger"), consume=False)
    with ExitStack() as servers:
        ledger = servers.enter_context(
            BackgroundServer(lambda: build_ledger(ledger_settings).app, factory=True)
        )
        async with AsyncExitStack() as clients:
            admin = await clients.enter_async_context(
                httpx.AsyncClient(base_url=ledger.base_url, headers=auth_headers(), timeout=30)
            )
            made = await admin.post("/v1/keys", json={"name": "portal-flow", "role": "portal"})
            assert made.status_code == 201, made.text
            rows = [import_row(n, locale="en_US") for n in (1, 2, 3)]
            imported = await admin.post(
                "/v1/accounts/import", content=to_csv(rows), headers={"content-type": "text/csv"}
            )
            assert imported.status_code in (200, 201), imported.text

            portal_key = made.json()["key"]
            state: dict[str, str] = {}

            def make_portal() -> Any:
                settings = PortalSettings(
                    ledger_url=ledger.base_url,
                    ledger_api_key=portal_key,
                    paylink_key=KEY,
                    stripe_secret_key=STRIPE_KEY,
                    stripe_api_base=state["sandbox"],
                    stripe_webhook_secret=WEBHOOK_SECRET,
                )
                return build_portal(settings)

            portal = BackgroundServer(make_portal, factory=True)
            state["sandbox"] = servers.enter_context(
                sandbox_server(
                    stripe_secret_key=STRIPE_KEY,
                    stripe_webhook_url=f"{portal.base_url}/webhooks/stripe",
                    stripe_webhook_secret=WEBHOOK_SECRET,
                    stripe_dispute_delay_ms=200,
                    stripe_processing_delay_ms=200,
                )
            )
            servers.enter_context(portal)
            yield Loop(portal.base_url, admin, topics, state["sandbox"])


@pytest.fixture
async def pages() -> AsyncIterator[dict[str, Page]]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            opened = {}
            for name, (width, height) in VIEWPORTS.items():
                context = await browser.new_context(viewport={"width": width, "height": height})
                opened[name] = await context.new_page()
            yield opened
        finally:
            await browser.close()


async def snap(page: Page, name: str, viewport: str) -> None:
    width, height = VIEWPORTS[viewport]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"flow-{name}-{width}x{height}.png"), full_page=True)


async def fill_card(page: Page, form: str, number: str) -> None:
    await page.fill(f"#{form}-number", number)
    await page.fill(f"#{form}-expiry", "12/30")
    await page.fill(f"#{form}-cvc", "123")
    await page.fill(f"#{form}-postal", "10001")


async def test_choose_a_plan_and_pay_the_first_installment(
    loop: Loop, pages: dict[str, Page]
) -> None:
    for viewport, account in (("phone", "ACC-000001"), ("desktop", "ACC-000002")):
        page = pages[viewport]
        response = await page.goto(loop.texted_link(account))
        assert response is not None
        assert response.status == 200
        await snap(page, "page", viewport)
        offer = page.locator("#plan-form input[name=offer_id]").first
        offer_id = await offer.get_attribute("value")
        await offer.check()
        await page.click("#plan-form button[type=submit]")
        outcome = page.get_by_test_id("outcome")
        assert await outcome.inner_text() == "Your payment plan is agreed."
        await snap(page, "plan-agreed", viewport)

        money = await loop.money(account)
        [plan] = money["plans"]
        first = plan["installments"][0]
        await fill_card(page, "pay-installment", CARD_OK)
        await page.click("#pay-installment button[type=submit]")
        assert "We received your payment of" in await outcome.inner_text()
        await snap(page, "paid", viewport)

        money = await loop.money(account)
        [plan] = money["plans"]
        assert plan["status"] == "active"
        assert plan["installments"][0]["status"] == "paid"
        [payment] = money["payments"]
        assert payment["amount_minor"] == first["amount_minor"]
        assert payment["method"] == "card"
        assert payment["source"] == "page"
        assert offer_id

    events = await read_topic(f"{loop.topics}{PAYMENTS}", at_least=4)
    kinds = [(e.subject, e.type, getattr(e.data, "source", None)) for e in events]
    for account in ("ACC-000001", "ACC-000002"):
        assert (account, "plan.agreed.v1", "page") in kinds
        assert (account, "payment.received.v1", "page") in kinds


async def test_a_disputed_card_payment_is_reversed(loop: Loop, pages: dict[str, Page]) -> None:
    page = pages["desktop"]
    await page.goto(loop.link("ACC-000003"))
    await page.click("summary:text-is('Pay part of it')")
    await page.fill("#pay-part-amount", "20.00")
    await fill_card(page, "pay-part", CARD_DISPUTED_LATER)
    await page.click("#pay-part button[type=submit]")
    assert (
        "We received your payment of $20.00." in await page.get_by_test_id("outcome").inner_text()
    )
    await loop.drain_sandbox()  # the dispute opened, its event answered by the portal
    [payment] = (await loop.money("ACC-000003"))["payments"]
    assert payment["reversed"] is True
    events = await read_topic(f"{loop.topics}{PAYMENTS}", at_least=2)
    reversals = [e for e in events if e.type == "payment.reversed.v1"]
    assert [getattr(e.data, "reason", None) for e in reversals] == ["chargeback"]


async def test_expired_and_forged_links_record_nothing(loop: Loop, pages: dict[str, Page]) -> None:
    before = await loop.money("ACC-000003")
    for viewport, page in pages.items():
        for name, url, status in (
            ("expired", loop.link("ACC-000003", expires_in=timedelta(seconds=-1)), 410),
            ("forged", loop.link("ACC-000003").replace("/p/", "/p/A"), 403),
        ):
            response = await page.goto(url)
            assert response is not None
            assert response.status == status
            await snap(page, f"refused-{name}", viewport)
    assert await loop.money("ACC-000003") == before


async def test_a_processing_charge_is_recorded_once_when_it_succeeds_never_when_it_fails(
    loop: Loop, pages: dict[str, Page]
) -> None:
    page = pages["phone"]
    outcome = page.get_by_test_id("outcome")
    for account, number in (("ACC-000001", CARD_SUCCEEDS_LATER), ("ACC-000002", CARD_FAILS_LATER)):
        await page.goto(loop.link(account))
        await page.click("summary:text-is('Pay part of it')")
        await page.fill("#pay-part-amount", "20.00")
        await fill_card(page, "pay-part", number)
        await page.click("#pay-part button[type=submit]")
        assert "is being processed. We will confirm it." in await outcome.inner_text()
        await snap(page, f"pending-{account}", "phone")
    await loop.drain_sandbox()  # both charges ended, both events answered by the portal
    async with httpx.AsyncClient(base_url=loop.sandbox, timeout=30) as sandbox:
        charges = (await sandbox.get("/_sandbox/charges")).json()["charges"]
        later = next(c for c in charges if c["card"]["last4"] == CARD_SUCCEEDS_LATER[-4:])
        intent = (
            await sandbox.get(
                f"/v1/payment_intents/{later['id']}",
                headers={"authorization": f"Bearer {STRIPE_KEY}"},
            )
        ).json()
    [payment] = (await loop.money("ACC-000001"))["payments"]
    assert (payment["amount_minor"], payment["method"], payment["source"]) == (
        2_000,
        "card",
        "processor",
    )
    assert payment["payment_id"].endswith(":" + later["id"])
    assert (await loop.money("ACC-000002"))["payments"] == []

    # The same event delivered again (Stripe retries; a new event id, the same payment).
    event = {"id": "evt_again", "object": "event", "type": "payment_intent.succeeded"}
    payload = orjson.dumps(event | {"data": {"object": intent}})
    signature = stripe_signature(WEBHOOK_SECRET, int(time.time()), payload)
    async with httpx.AsyncClient(base_url=loop.portal) as portal:
        again = await portal.post(
            "/webhooks/stripe", content=payload, headers={"stripe-signature": signature}
        )
    assert again.status_code == 204
    assert len((await loop.money("ACC-000001"))["payments"]) == 1
    events = await read_topic(f"{loop.topics}{PAYMENTS}", at_least=1)
    received = [e for e in events if e.type == "payment.received.v1"]
    assert [(e.subject, getattr(e.data, "source", None)) for e in received] == [
        ("ACC-000001", "processor")
    ]
