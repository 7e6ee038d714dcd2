"""The operations dashboard in a real browser (Debian's Chromium driven by Playwright) over a
real pipeline run: every service a process, a few accounts messaged through the sandbox.

A visitor without a key is refused; an operator sees every chart of the portfolio drawn
(each screenshot non-blank, kept under .state/artifacts/ops/) at phone and desktop widths,
records a payment through the account page, and finds it on the timeline and on
payments.v1; pauses an account's outreach, sees it on the timeline and the scheduler's case
paused, and resumes it; a read-only key sees no action and its POSTs are refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import ADMIN_KEY, auth_headers, service_url
from dunning_testkit.portal import browser_pages, needs_chromium
from playwright.sync_api import Page

from .ops_browser import (
    ARTIFACTS,
    LEDGER,
    OPS,
    chart_variance,
    new_prefix,
    no_blank_chart,
    open_as,
    payment_events,
    produce_unreadable,
    run_pipeline,
    served_charts,
    shoot_charts,
    sign_in,
)

pytestmark = [pytest.mark.e2e, needs_chromium]

WIDTHS = {"phone": 390, "desktop": 1280}


class Run:
    def __init__(self, prefix: str, keys: dict[str, str], accounts: list[str]) -> None:
        self.prefix, self.keys, self.accounts = prefix, keys, accounts


def _figures(http: httpx.Client) -> dict[str, Any]:
    response = http.get(f"{LEDGER}/v1/portfolio/figures")
    response.raise_for_status()
    return dict(response.json())


@pytest.fixture(scope="module")
def run(stack: None) -> Iterator[Run]:
    prefix = new_prefix()
    for _ in run_pipeline(prefix):
        rows = [r for r in sample_rows(8, seed=23) if r["state"] not in ("HI", "AK")][:4]
        with httpx.Client(timeout=60, headers=auth_headers()) as http:
            imported = http.post(
                f"{LEDGER}/v1/accounts/import",
                content=to_csv(rows).encode(),
                headers={"content-type": "text/csv"},
            )
            assert imported.status_code == 200, imported.text
            keys = {}
            for role in ("operator", "read_only"):
                made = http.post(
                    f"{LEDGER}/v1/keys", json={"name": f"ops-e2e-{role}", "role": role}
                )
                assert made.status_code == 201, made.text
                keys[role] = made.json()["key"]
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                messages = _figures(http)["messages_by_channel_and_outcome"]
                if any(o.get("delivered") for o in messages.values()):
                    break
                time.sleep(2)
            else:
                raise AssertionError(f"no message delivered in 180 s: {messages}")
        yield Run(prefix, keys, [r["account_id"] for r in rows])


@pytest.fixture(scope="module")
def pages() -> Iterator[dict[str, Page]]:
    with browser_pages() as opened:
        yield opened


class Screen(NamedTuple):
    page: Page
    width: int


@pytest.fixture(params=list(WIDTHS))
def screen(request: pytest.FixtureRequest, pages: dict[str, Page]) -> Screen:
    """A test that asks for it runs twice, on a phone's page and on a desktop's."""
    return Screen(pages[request.param], WIDTHS[request.param])


def test_a_visitor_without_a_key_is_refused(run: Run, pages: dict[str, Page]) -> None:
    with httpx.Client(follow_redirects=False) as http:
        assert http.get(f"{OPS}/api/portfolio").status_code == 401
        page = http.get(f"{OPS}/")
        assert page.status_code == 303
        assert page.headers["location"] == "/signin"
        refused = http.post(f"{OPS}/signin", data={"key": "dun_0123456789ab_" + "x" * 30})
        assert refused.status_code == 401
        assert "set-cookie" not in refused.headers
    browser = pages["desktop"]
    browser.context.clear_cookies()
    browser.goto(f"{OPS}/accounts")
    assert browser.url.startswith(f"{OPS}/signin")


def test_the_portfolio_draws_every_chart_from_the_run(run: Run, screen: Screen) -> None:
    page = screen.page
    sign_in(page, run.keys["operator"])
    assert page.get_by_test_id("who").inner_text() == "ops-e2e-operator · operator"
    variances = no_blank_chart(page, "portfolio", screen.width)
    assert set(variances) == {
        "stages", "statuses", "collected", "payments", "messages", "deliverability",
        "rates", "rules",
    }  # fmt: skip
    # the figures of the run, not an empty page
    assert page.get_by_test_id("tile-accounts").inner_text().split()[-1] != "0"
    _, charts = served_charts(page, "portfolio")
    assert not charts["messages"]["empty"]
    assert not charts["stages"]["empty"]
    # nothing overflows the phone's width
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen.width, width


def test_an_operator_records_a_payment_through_the_page(run: Run, pages: dict[str, Page]) -> None:
    page = pages["desktop"]
    sign_in(page, run.keys["operator"])
    account_id = run.accounts[0]
    page.goto(f"{OPS}/accounts?account_id={account_id}")
    page.click(f"[data-testid=results] a:text('{account_id}')")
    page.wait_for_url(f"{OPS}/accounts/{account_id}")
    page.click("#actions summary:text('Record a payment')")
    page.fill("#payment-amount", "25.00")
    page.select_option("#payment-method", "check")
    page.click("[data-testid=submit-payment]")
    assert page.get_by_test_id("done").inner_text() == "Recorded: payment."
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "25.00" in timeline
    assert "ops-e2e-operator" in timeline
    with httpx.Client(headers=auth_headers()) as http:
        balance = http.get(f"{LEDGER}/v1/accounts/{account_id}").json()["balance"]
    assert page.get_by_test_id("balance").inner_text() == f"{balance['display']} USD"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "account-after-payment-1280.png"), full_page=True)

    events = payment_events(run.prefix, account_id, "payment.received.v1")
    received = [e for e in events if e["type"] == "payment.received.v1"]
    assert len(received) == 1, events
    assert received[0]["amount"]["amount_minor"] == 2500
    assert received[0]["method"] == "check"
    assert received[0]["source"] == "operator"

    # what-if through the gate: an answer, whatever it is, with the rules that decided it
    page.select_option("#channel", "sms")
    page.click("#whatif button[type=submit]")
    assert page.get_by_test_id("verdict-action").inner_text() in {"allow", "defer", "block"}
    # the gate understood the request built from the ledger's account
    assert "input.invalid" not in page.get_by_test_id("verdict").inner_text()


def test_a_read_only_key_may_look_but_not_act(run: Run, pages: dict[str, Page]) -> None:
    page = pages["desktop"]
    sign_in(page, run.keys["read_only"])
    account_id = run.accounts[1]
    page.goto(f"{OPS}/accounts/{account_id}")
    assert page.get_by_test_id("no-actions").is_visible()
    assert page.locator("[data-testid=submit-payment]").count() == 0
    csrf = page.locator("#whatif input[name=csrf]").get_attribute("value")
    answer = page.request.post(
        f"{OPS}/accounts/{account_id}/actions/payment",
        form={"csrf": str(csrf), "id": "ops-payment-readonly-1", "amount": "5.00",
              "method": "cash"},
        max_redirects=0,
    )  # fmt: skip
    assert answer.status == 403
    assert "may not record a payment" in answer.text()
    with httpx.Client(headers=auth_headers()) as http:
        payments = http.get(f"{LEDGER}/v1/accounts/{account_id}").json()["payments"]
    assert payments == []


def _case(account_id: str) -> dict[str, Any]:
    with httpx.Client(headers=auth_headers()) as http:
        return dict(http.get(f"{service_url('scheduler')}/v1/cases/{account_id}").json())


def test_an_operator_pauses_and_resumes_outreach_a_reader_cannot(
    run: Run, pages: dict[str, Page]
) -> None:
    account_id = run.accounts[3]
    page = pages["desktop"]
    page.context.clear_cookies()
    open_as(page, run.keys["read_only"], f"/accounts/{account_id}")
    assert page.locator("#form-pause").count() == 0
    csrf = page.locator("#whatif input[name=csrf]").get_attribute("value")
    refused = page.request.post(
        f"{OPS}/accounts/{account_id}/actions/pause",
        form={"csrf": str(csrf), "id": "ops-pause-readonly-1", "reason": "no"},
        max_redirects=0,
    )  # fmt: skip
    assert refused.status == 403
    assert "may not pause outreach" in refused.text()

    page.context.clear_cookies()
    open_as(page, run.keys["operator"], f"/accounts/{account_id}")
    assert page.get_by_test_id("outreach").inner_text() == "active"
    page.click("#actions summary:text('Pause outreach')")
    page.fill("#pause-reason", "consumer in hospital")
    page.click("[data-testid=submit-pause]")
    assert page.get_by_test_id("done").inner_text() == "Recorded: pause."
    assert page.get_by_test_id("outreach").inner_text() == "paused"
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "outreach paused by ops-e2e-operator: consumer in hospital" in timeline
    page.screenshot(path=str(ARTIFACTS / "account-paused-1280.png"), full_page=True)
    _until(
        lambda: "operator" in _case(account_id).get("pause_reasons", []), 60,
        "the scheduler paused the case",
    )  # fmt: skip
    assert _case(account_id)["status"] == "paused"

    page.click("#actions summary:text('Resume outreach')")
    page.click("[data-testid=submit-resume]")
    assert page.get_by_test_id("done").inner_text() == "Recorded: resume."
    assert page.get_by_test_id("outreach").inner_text() == "active"
    assert "outreach resumed by ops-e2e-operator" in page.get_by_test_id("timeline").inner_text()
    _until(
        lambda: "operator" not in _case(account_id).get("pause_reasons", []), 60,
        "the scheduler resumed the case",
    )  # fmt: skip


def _dead(page: Page, topic: str) -> int:
    return int(page.request.get(f"{OPS}/api/pipeline").json()["dead_letters"][topic])


def _until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(1)


def test_the_pipeline_draws_throughput_lag_and_health(run: Run, screen: Screen) -> None:
    page = screen.page
    open_as(page, run.keys["operator"], "/pipeline")
    assert page.get_by_test_id("no-metrics").count() == 0
    variances = no_blank_chart(page, "pipeline", screen.width)
    assert set(variances) == {"steps", "handled", "lag", "dlq", "deliveries", "providers"}
    body, charts = served_charts(page, "pipeline")
    for drawn in ("steps", "handled", "deliveries", "providers"):
        assert not charts[drawn]["empty"], charts[drawn]
    assert {h["service"] for h in body["health"] if h["ok"]} == {
        "ledger", "scheduler", "gate", "sms", "email", "sms-ingress", "email-ingress", "portal",
    }  # fmt: skip
    assert page.evaluate("document.documentElement.scrollWidth") <= screen.width


def test_a_dead_letter_is_shown_and_only_an_admin_replays_it(
    run: Run, pages: dict[str, Page]
) -> None:
    topic = "consumer.signals.v1.dlq"
    page = pages["desktop"]
    sign_in(page, run.keys["operator"])
    before = _dead(page, topic)
    produce_unreadable(run.prefix, "consumer.signals.v1", run.accounts[2])
    _until(lambda: _dead(page, topic) > before, 60, "the unreadable record dead-lettered")
    page.goto(f"{OPS}/pipeline/dlq/{topic}")
    letters = page.locator("[data-testid^=letter-]")
    for _ in range(3):  # as an operator would: reload while the broker is slow to answer
        if letters.count():
            break
        page.reload()
    assert letters.count() > 0, page.content()[-2000:]
    letter = letters.last
    assert "consumer.signals.v1:" in letter.inner_text()
    assert page.locator("[data-testid^=replay-]").count() == 0  # an operator may not
    offset = str(letter.get_attribute("data-testid")).removeprefix("letter-")
    csrf = page.locator("form.who input[name=csrf]").get_attribute("value")
    refused = page.request.post(
        f"{OPS}/pipeline/dlq/{topic}/0/{offset}/replay", form={"csrf": str(csrf)},
        max_redirects=0,
    )  # fmt: skip
    assert refused.status == 403

    open_as(page, ADMIN_KEY, f"/pipeline/dlq/{topic}")
    parked = _dead(page, topic)
    page.click(f"[data-testid=replay-{offset}]")
    assert "published again on consumer.signals.v1" in page.get_by_test_id("replayed").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dead-letters-replayed-1280.png"), full_page=True)
    # back on its topic, still unreadable: its consumers park it again
    _until(lambda: _dead(page, topic) > parked, 60, "the replayed record dead-lettered again")


def test_the_policies_page_draws_the_active_ladder(run: Run, screen: Screen) -> None:
    page = screen.page
    open_as(page, run.keys["read_only"], "/policies")
    variances = shoot_charts(page, "policies", screen.width)
    assert variances["cases"] >= 50, variances
    ladder = page.get_by_test_id("ladder")
    assert ladder.is_visible()
    png = ladder.screenshot(path=str(ARTIFACTS / f"policies-ladder-{screen.width}.png"))
    assert chart_variance(page, png) >= 50
    with httpx.Client(headers=auth_headers()) as http:
        stats = http.get(f"{service_url('scheduler')}/v1/stats").json()
    keys = [s["key"] for s in stats["policy"]["stages"]]
    assert len(keys) >= 4  # the default ladder: reminder to legal warning
    for key in keys:
        assert page.get_by_test_id(f"step-{key}").count() == 1, key
    # the run's cases sit at the first step
    first = str(page.get_by_test_id(f"volume-{keys[0]}").text_content())
    assert "active" in first, first
    assert page.evaluate("document.documentElement.scrollWidth") <= screen.width
