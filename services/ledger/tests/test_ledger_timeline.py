"""The account timeline: every recorded fact in order, who and when, JSON and a printable page
(use cases over the in-memory ledger; the routes over ASGI with the same fakes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dunning_core.contracts import events as ev
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel, MessageContent, Stage
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.accounts.api import timeline_format
from dunning_ledger.accounts.timeline import TimelineService
from dunning_ledger.communications.schemas import SignalIn
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.errors import NotFound
from dunning_ledger.imports.service import ImportService
from dunning_ledger.payments.schemas import PaymentIn
from dunning_ledger.payments.service import PaymentService
from dunning_testkit.ledger import ledger_client, memory_ledger_app, required_row
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


BODY = "Hi <b>Ana</b>, $120.00 is past due. Pay: https://pay.example/x Reply STOP to opt out"
CONTENT = MessageContent(body=BODY)
QUIET_HOURS = ev.RuleFinding(rule_id="quiet_hours", action="defer", explanation="21:00 local")


def decided(at: datetime, content: MessageContent | None = CONTENT) -> ev.StepDecided:
    return ev.StepDecided(
        account_id="A1", step_id="stp_1", planned_event_id="p1", debt_id="D1",
        stage=Stage.FRIENDLY_REMINDER, channel=Channel.SMS, attempt=1,
        destination="+14155552671", decision=ev.Decision.DEFER, not_before=at + timedelta(hours=9),
        findings=(QUIET_HOURS,),
        policy_version="p-1", content_hash=CONTENT.content_hash(), decided_at=at,
        content=content,
    )  # fmt: skip


async def story(ledger: MemoryLedger) -> None:
    """An account with a deferral, a delivery, a reply, an operator's dispute and a payment."""
    clock = FixedClock(T0)
    rows = [required_row(1, full_name="=SUM(A1)<b>", phone="(415) 555-2671")]
    await ImportService(ledger, clock).import_accounts(validate_json(rows), by="ops-import")
    later = FixedClock(T0 + timedelta(days=6))
    communications = CommunicationService(ledger, later, group_id="g")
    reply = ev.ConsumerSignaled(
        account_id="A1", signal_id="r1", kind=ev.SignalKind.REPLIED, channel=Channel.SMS,
        text="I already paid <script>", source="sms", occurred_at=T0 + timedelta(hours=3),
        details={"intent": "claims_paid"},
    )  # fmt: skip
    delivered = ev.DeliveryUpdated(
        account_id="A1", step_id="stp_1", channel=Channel.SMS, provider="twilio",
        provider_message_id="SM1", status=ev.DeliveryStatus.DELIVERED,
        occurred_at=T0 + timedelta(hours=2),
    )  # fmt: skip
    events = [decided(T0 + timedelta(hours=1)), reply, delivered]
    await communications.record_events("g", [wrap(e, "compliance-gate") for e in events])
    dispute = SignalIn(signal_id="d1", kind=ev.SignalKind.DISPUTED, occurred_at=T0 + timedelta(4))
    await communications.record_signal("A1", dispute, recorded_by="ops-jane")
    payment = PaymentIn(
        payment_id="pay1", amount="25.00", method="card",
        received_at=T0 + timedelta(days=5),
    )  # fmt: skip
    await PaymentService(ledger, later).record_payment("A1", payment, recorded_by="cashier-1")


async def test_the_timeline_tells_the_story_in_order_with_who_and_when() -> None:
    ledger = MemoryLedger()
    await story(ledger)
    timeline = await TimelineService(ledger).timeline("A1")
    kinds = [e.kind for e in timeline.entries]
    assert kinds == ["account", "decision", "delivery", "signal", "signal", "payment"]
    assert timeline.entries[0].by == "ops-import"  # the principal of the importer's key
    decision = timeline.entries[1]
    assert decision.details["rules"][0]["rule_id"] == "quiet_hours"
    assert "quiet_hours: 21:00 local" in decision.summary
    assert decision.details["content_hash"] == CONTENT.content_hash()
    assert decision.text == BODY  # the message vetted, whole
    assert decision.details["message"]["matches_content_hash"] is True
    reply = timeline.entries[3]
    assert reply.details["intent"] == "claims_paid"
    assert reply.summary == "replied by sms (sms), intent claims_paid"
    assert reply.text == "I already paid <script>"
    assert timeline.entries[4].by == "ops-jane"
    assert timeline.entries[5].by == "cashier-1"
    assert timeline.zone.name == "America/Chicago"  # Texas, no zone on the account
    assert timeline.entries[1].local(timeline.zone).hour == 10  # 16:00 UTC is 10:00 CST


async def test_an_unknown_account_has_no_timeline() -> None:
    with pytest.raises(NotFound):
        await TimelineService(MemoryLedger()).timeline("A9")


@pytest.fixture
async def http(memory: MemoryLedger) -> AsyncIterator[httpx.AsyncClient]:
    await story(memory)
    async with ledger_client(memory_ledger_app(memory)) as client:
        yield client


async def test_the_timeline_as_json_has_utc_and_local_times(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/accounts/A1/timeline")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["zone"] == "America/Chicago"
    first = body["entries"][1]
    assert first["at_utc"] == "2026-03-02T16:00:00Z"
    assert first["at_local"] == "2026-03-02T10:00:00-06:00"
    assert "body" in body["message_bodies"]
    assert (first["kind"], first["text"], first["subject"]) == ("decision", BODY, None)
    reply = body["entries"][3]
    assert (reply["kind"], reply["text"], reply["details"]["intent"]) == (
        "signal",
        "I already paid <script>",
        "claims_paid",
    )
    missing = await http.get("/v1/accounts/NOPE/timeline")
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["message"]


async def test_the_printable_page_escapes_every_value(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/accounts/A1/timeline", params={"format": "html"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "=SUM(A1)&lt;b&gt;" in page  # a formula-like name stays text, markup escaped
    assert "<script>" not in page
    assert "I already paid &lt;script&gt;" in page
    assert "quiet_hours (defer): 21:00 local" in page
    assert "ops-jane" in page
    assert '<td class="by">ops-import</td>' in page  # who opened the account
    assert "Hi &lt;b&gt;Ana&lt;/b&gt;, $120.00 is past due." in page  # the body, as text
    assert "intent: claims_paid" in page
    assert "http" not in page.split("<body>")[0]  # no external asset


async def test_a_decision_recorded_without_its_text_says_so() -> None:
    ledger = MemoryLedger()
    await story(ledger)
    old = decided(T0 + timedelta(hours=2), content=None).model_copy(
        update={"planned_event_id": "p0"}
    )
    tampered = decided(T0 + timedelta(hours=3), MessageContent(body="other words"))
    tampered = tampered.model_copy(update={"planned_event_id": "p2"})
    communications = CommunicationService(ledger, FixedClock(T0), group_id="g")
    await communications.record_events("g", [wrap(e, "compliance-gate") for e in (old, tampered)])
    entries = [
        e for e in (await TimelineService(ledger).timeline("A1")).entries if e.kind == "decision"
    ]
    assert [e.text for e in entries] == [BODY, None, "other words"]
    assert entries[1].details["message"] is None
    assert entries[2].details["message"]["matches_content_hash"] is False


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        ("", "json"),
        ("*/*", "json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
        ("application/pdf", "pdf"),
        ("text/html;q=0.5, application/json", "json"),
        ("application/json;q=0.1, application/pdf;q=0.9", "pdf"),
        ("text/html;q=oops", "json"),
    ],
)
def test_the_accept_header_picks_the_form(accept: str, form: str) -> None:
    assert timeline_format(accept) == form


async def test_format_wins_over_accept(http: httpx.AsyncClient) -> None:
    json_first = {"Accept": "application/json"}
    page = await http.get("/v1/accounts/A1/timeline", params={"format": "html"}, headers=json_first)
    assert page.headers["content-type"].startswith("text/html")
    body = await http.get("/v1/accounts/A1/timeline", headers={"Accept": "text/html"})
    assert body.headers["content-type"].startswith("text/html")
    assert body.headers["vary"] == "Accept"
    default = await http.get("/v1/accounts/A1/timeline", headers={"Accept": "*/*"})
    assert default.headers["content-type"] == "application/json"
    assert default.headers["vary"] == "Accept"
    refused = await http.get("/v1/accounts/A1/timeline", params={"format": "docx"})
    assert refused.status_code == 422
    assert "format" in refused.text
