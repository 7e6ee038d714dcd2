"""The payment page in a real browser (Debian's headless Chromium driven by Playwright), over
fakes of the ledger and the processor: every page at phone and desktop widths, kept as
screenshots under .state/artifacts/portal/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from dunning_testkit.portal import (
    CARD_DECLINED,
    NOW,
    FakeProcessor,
    MemoryMoney,
    browser_pages,
    link,
    needs_chromium,
    pay_with_card,
    portal_app,
    shoot,
)
from dunning_testkit.servers import BackgroundServer
from playwright.sync_api import Page

pytestmark = needs_chromium


@pytest.fixture
def portal(ledger: MemoryMoney) -> Iterator[str]:
    with BackgroundServer(portal_app(ledger, FakeProcessor())) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def pages() -> Iterator[dict[str, Page]]:
    with browser_pages() as opened:
        yield opened


@pytest.fixture(params=["phone", "desktop"])
def viewport(request: pytest.FixtureRequest) -> str:
    """Every test runs at both widths."""
    return str(request.param)


@pytest.fixture
def page(pages: dict[str, Page], viewport: str) -> Page:
    return pages[viewport]


def test_open_choose_a_plan_and_pay_the_first_installment(
    portal: str, ledger: MemoryMoney, page: Page, viewport: str
) -> None:
    response = page.goto(f"{portal}/p/{link()}")
    assert response is not None
    assert response.status == 200
    assert page.get_by_test_id("balance").inner_text() == "$600.00"
    assert page.locator("#itemization").is_visible()
    shoot(page, "page", viewport)

    page.check("input[value=plan-biweekly-6]")
    shoot(page, "plan-chosen", viewport)
    page.click("#plan-form button[type=submit]")
    assert page.get_by_test_id("outcome").inner_text() == "Your payment plan is agreed."
    shoot(page, "plan-agreed", viewport)

    pay_with_card(page, "pay-installment")
    page.click("#pay-installment button[type=submit]")
    assert page.get_by_test_id("outcome").inner_text() == "We received your payment of $100.00."
    shoot(page, "paid", viewport)

    [plan] = ledger.recorded("plan")
    assert plan["offer_id"] == "plan-biweekly-6"
    [payment] = ledger.recorded("payment")
    assert payment["amount_minor"] == 10_000
    assert payment["source"] == "page"
    assert ledger.plans[0].installments[0].status == "paid"

    page.goto(f"{portal}/p/{link()}")
    assert page.get_by_test_id("balance").inner_text() == "$500.00"
    shoot(page, "page-with-plan", viewport)


def test_a_declined_card_and_the_language_switch(
    portal: str, ledger: MemoryMoney, page: Page, viewport: str
) -> None:
    page.goto(f"{portal}/p/{link()}")
    pay_with_card(page, "pay-full", CARD_DECLINED)
    page.click("#pay-full button[type=submit]")
    assert "Your card was declined. No payment was taken." in page.inner_text("[role=alert]")
    shoot(page, "declined", viewport)
    assert ledger.writes == []

    page.click("nav.lang a[lang=es]")
    assert page.get_by_test_id("balance").inner_text() == "$600.00"
    assert "Saldo adeudado" in page.inner_text("main")
    assert page.locator("html").get_attribute("lang") == "es"
    shoot(page, "page-es", viewport)
    page.click("nav.lang a[lang=zh]")
    assert "应付余额" in page.inner_text("main")
    shoot(page, "page-zh", viewport)


def test_dispute_opt_out_and_call_back(
    portal: str, ledger: MemoryMoney, page: Page, viewport: str
) -> None:
    for name, summary, form, words in [
        ("dispute", "Dispute this debt", "#dispute-form", "We recorded your dispute."),
        ("opt-out", "Stop messages on a channel", "#opt-out-sms", "not send you text messages"),
        ("call-back", "Ask us to call you", "#call-back-form", "We will call you back."),
    ]:
        page.goto(f"{portal}/p/{link()}")
        page.click(f"summary:text-is('{summary}')")
        page.click(f"{form} button[type=submit]")
        assert words in page.get_by_test_id("outcome").inner_text()
        shoot(page, f"done-{name}", viewport)
    assert [k for k, _, _ in ledger.writes] == ["signal", "signal", "note"]


def test_expired_and_forged_links_are_refused_with_a_plain_page(
    portal: str, ledger: MemoryMoney, page: Page, viewport: str
) -> None:
    for name, token, status, words in [
        ("expired", link(expires_at=NOW - timedelta(minutes=1)), 410, "This link has expired."),
        ("forged", link(key="not-our-key"), 403, "This link is not valid."),
    ]:
        response = page.goto(f"{portal}/p/{token}")
        assert response is not None
        assert response.status == status
        assert page.inner_text("h1") == words
        assert "Northwind" not in page.content()
        shoot(page, f"refused-{name}", viewport)
    assert ledger.writes == []
