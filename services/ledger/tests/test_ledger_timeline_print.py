"""The account timeline against the real PostgreSQL: each message sent, whole, and each reply
with its intent, in order; the printable page in a real browser (Debian's Chromium driven
by Playwright); the PDF, parsed; and who may read it (401, 403).

Events reach the ledger through ``LedgerEventHandler`` (handle, then flush), the handler
the Kafka consumer loop drives; writes go through the routes with named keys.
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dunning_core.contracts import events as ev
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel, MessageContent, Stage
from dunning_core.contracts.ids import step_id
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import consume, import_row
from dunning_testkit.paths import auth_headers
from dunning_testkit.portal import needs_chromium
from playwright.async_api import Route, async_playwright
from pypdf import PdfReader

pytestmark = pytest.mark.integration

ACCOUNT, DEBT = "ACC-TL-1", "DEBT-TL-1"
NAME = '=HYPERLINK("http://x")<img src=x onerror=alert(1)>'
STEP = step_id(ACCOUNT, DEBT, "friendly_reminder", "email", 1)
SUBJECT = "Your Acme Bank balance of $120.50"
BODY = (
    "Hello, this is Acme Collections, a debt collector. This is an attempt to collect a debt; "
    "any information obtained will be used for that purpose. Your balance of $120.50 is past "
    "due. Pay at https://pay.example/t/abc or reply to talk to us. Unsubscribe: reply STOP."
)
CONTENT = MessageContent(body=BODY, subject=SUBJECT)
REPLY = "Can you call me after 6pm? <b>thanks</b>"
MS = timedelta(milliseconds=100)


@pytest.fixture
def ledger(quiet: Ledger) -> Ledger:
    return quiet


def decided(decision: ev.Decision, at: datetime, *findings: ev.RuleFinding) -> ev.StepDecided:
    return ev.StepDecided(
        account_id=ACCOUNT, step_id=STEP, planned_event_id=f"plan-{decision}", debt_id=DEBT,
        stage=Stage.FRIENDLY_REMINDER, channel=Channel.EMAIL, attempt=1,
        destination="consumer.1@example.com", decision=decision,
        not_before=at + 0.5 * MS if findings else None, findings=findings,
        policy_version="test-2026.03", content_hash=CONTENT.content_hash(),
        decided_at=at, content=CONTENT,
    )  # fmt: skip


async def new_key(http: httpx.AsyncClient, name: str, role: str) -> dict[str, str]:
    response = await http.post("/v1/keys", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return auth_headers(response.json()["key"])


async def tell_the_story(ledger: Ledger, http: httpx.AsyncClient) -> None:
    """Imported; a deferral, then the e-mail allowed and delivered; a reply asking for a
    call; then an agent's note and a cashier's payment (the ledger's clock: after them)."""
    imported = await http.post(
        "/v1/accounts/import",
        json={"accounts": [import_row(1, account_id=ACCOUNT, debt_id=DEBT, full_name=NAME)]},
    )
    assert imported.status_code == 200, imported.text
    t0 = datetime.now(UTC)
    late = ev.RuleFinding(rule_id="hours.fdcpa", action="defer", explanation="21:40 in New York")
    reply = ev.ConsumerSignaled(
        account_id=ACCOUNT, signal_id="reply-1", kind=ev.SignalKind.REPLIED, channel=Channel.EMAIL,
        address="consumer.1@example.com", text=REPLY, source="email",
        occurred_at=t0 + 4 * MS, details={"intent": "call_me", "language": "en"},
    )  # fmt: skip
    delivered = ev.DeliveryUpdated(
        account_id=ACCOUNT, step_id=STEP, channel=Channel.EMAIL, provider="sendgrid",
        provider_message_id="SG-1", status=ev.DeliveryStatus.DELIVERED, occurred_at=t0 + 3 * MS,
    )  # fmt: skip
    envelopes = [
        wrap(decided(ev.Decision.DEFER, t0 + MS, late), "compliance-gate"),
        wrap(decided(ev.Decision.ALLOW, t0 + 2 * MS), "compliance-gate"),
        wrap(delivered, "email"),
        wrap(reply, "email"),
    ]
    assert await consume(ledger, *envelopes) == 4
    await asyncio.sleep(0.5)  # the note and the payment are dated by the ledger's clock
    agent = await new_key(http, "agent-ann", "agent")
    noted = await http.post(
        f"/v1/accounts/{ACCOUNT}/notes", json={"text": "called back, asked for a plan"},
        headers=agent,
    )  # fmt: skip
    assert noted.status_code == 201, noted.text
    cashier = await new_key(http, "card-processor", "payment_system")
    paid = await http.post(
        f"/v1/accounts/{ACCOUNT}/payments",
        json={"payment_id": "PAY-TL-1", "amount": "20.00"},
        headers=cashier,
    )
    assert paid.status_code == 201, paid.text


async def test_each_message_whole_and_each_reply_with_its_intent_in_order(
    ledger: Ledger, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await tell_the_story(ledger, http)

    response = await http.get(f"/v1/accounts/{ACCOUNT}/timeline")

    assert response.status_code == 200, response.text
    body = response.json()
    entries = body["entries"]
    # The call_me reply opened an agent task (dated by the ledger's clock when it took the
    # reply, so placed by that time): there once, the rest in the story's order.
    assert [e["kind"] for e in entries].count("task") == 1
    entries = [e for e in entries if e["kind"] != "task"]
    kinds = [e["kind"] for e in entries]
    assert kinds == ["account", "decision", "decision", "delivery", "signal", "note", "payment"]
    deferred, allowed = entries[1], entries[2]
    assert deferred["details"]["rules"] == [
        {"rule_id": "hours.fdcpa", "action": "defer", "explanation": "21:40 in New York"}
    ]
    assert (allowed["text"], allowed["subject"]) == (BODY, SUBJECT)  # the e-mail sent, whole
    assert allowed["details"]["message"]["matches_content_hash"] is True
    assert allowed["step_id"] == STEP
    reply = entries[4]
    assert (reply["text"], reply["details"]["intent"]) == (REPLY, "call_me")
    assert (entries[5]["by"], entries[6]["by"]) == ("agent-ann", "card-processor")
    assert body["zone"] == "America/New_York"
    assert entries[2]["at_local"].endswith("-05:00") or entries[2]["at_local"].endswith("-04:00")
    # the log of record holds the text; the logs never do
    step = (await http.get(f"/v1/steps/{STEP}")).json()
    assert step["decisions"][-1]["content"]["body"] == BODY
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "past due" not in logged
    assert "after 6pm" not in logged


async def test_who_may_read_it(ledger: Ledger, http: httpx.AsyncClient) -> None:
    await tell_the_story(ledger, http)
    path = f"/v1/accounts/{ACCOUNT}/timeline"

    assert (await http.get(path, headers={"Authorization": ""})).status_code == 401
    machine = await new_key(http, "processor-2", "payment_system")
    for form in ("json", "html", "pdf"):
        refused = await http.get(path, params={"format": form}, headers=machine)
        assert refused.status_code == 403
        assert "communications.read" in refused.json()["message"]
    assert (await http.get(f"/v1/steps/{STEP}", headers=machine)).status_code == 403
    reader = await new_key(http, "examiner", "read_only")
    assert (await http.get(path, headers=reader)).status_code == 200


async def test_the_pdf_holds_the_messages_and_replies(
    ledger: Ledger, http: httpx.AsyncClient
) -> None:
    await tell_the_story(ledger, http)

    by_query = await http.get(f"/v1/accounts/{ACCOUNT}/timeline", params={"format": "pdf"})
    by_accept = await http.get(
        f"/v1/accounts/{ACCOUNT}/timeline", headers={"Accept": "application/pdf"}
    )

    for response in (by_query, by_accept):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(by_query.content)).pages)
    flat = " ".join(text.split())
    assert "this is Acme Collections, a debt collector" in flat
    assert SUBJECT in flat
    assert "Can you call me after 6pm? <b>thanks</b>" in flat  # markup printed as text
    assert "intent: call_me" in flat
    assert NAME in flat
    assert "America/New_York" in flat


@needs_chromium
async def test_the_printable_page_in_a_real_browser(
    ledger: Ledger, http: httpx.AsyncClient
) -> None:
    await tell_the_story(ledger, http)

    async def to_the_ledger(route: Route) -> None:
        # The browser's own request (its Accept header included) answered by the ledger.
        request = route.request
        answer = await http.request(request.method, request.url, headers=request.headers)
        await route.fulfill(
            status=answer.status_code, headers=dict(answer.headers), body=answer.content
        )

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True
        )
        try:
            page = await browser.new_page()
            await page.route("http://ledger/**", to_the_ledger)
            alerts: list[str] = []
            page.on("dialog", lambda dialog: alerts.append(dialog.message))
            shown = await page.goto(f"http://ledger/v1/accounts/{ACCOUNT}/timeline")
            assert shown is not None
            assert shown.headers["content-type"].startswith("text/html")
            text = await page.inner_text("body")
            assert BODY in " ".join(text.split())
            assert f"Subject: {SUBJECT}" in text
            assert REPLY in text
            assert NAME in text  # the name as text, its markup not run
            assert await page.locator("img").count() == 0
            assert alerts == []
            rows = await page.locator("tr.entry").count()
            assert rows == 8  # the seven of the story and the agent task the reply opened
            await page.emulate_media(media="print")
            assert await page.locator(".message").first.is_visible()
        finally:
            await browser.close()
