"""``dunning accounts timeline``: a table with each message and reply, or the printable page
and its PDF written to a file (the ledger's real routes over in-memory tables)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dunning_cli.main import app
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel, MessageContent, Stage
from dunning_core.contracts.events import ConsumerSignaled, Decision, SignalKind, StepDecided
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.domain.import_rows import validate_json
from dunning_ledger.imports.service import ImportService
from dunning_testkit.ledger import required_row
from dunning_testkit.ledger_memory import MemoryLedger
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner, Result

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BODY = "Hi, $100.00 is due.\nPay at https://pay.example/x [bold]"
CONTENT = MessageContent(body=BODY, subject="Due")


@pytest.fixture
async def memory() -> MemoryLedger:
    memory = MemoryLedger()
    rows = [required_row(1, full_name="[red]Eve[/red] =1+1")]
    await ImportService(memory, FixedClock(T0)).import_accounts(validate_json(rows))
    decided = StepDecided(
        account_id="A1", step_id="stp_1", planned_event_id="p1", debt_id="D1",
        stage=Stage.FRIENDLY_REMINDER, channel=Channel.EMAIL, attempt=1,
        destination="ben@example.com", decision=Decision.ALLOW, policy_version="p-1",
        content_hash=CONTENT.content_hash(), decided_at=T0 + timedelta(hours=1), content=CONTENT,
    )  # fmt: skip
    reply = ConsumerSignaled(
        account_id="A1", signal_id="r1", kind=SignalKind.REPLIED, channel=Channel.EMAIL,
        text="call me tomorrow", source="email", occurred_at=T0 + timedelta(hours=2),
        details={"intent": "call_me"},
    )  # fmt: skip
    communications = CommunicationService(memory, FixedClock(T0), group_id="g")
    await communications.record_events("g", [wrap(decided, "gate"), wrap(reply, "email")])
    return memory


def dunning(*args: str) -> Result:
    return CliRunner().invoke(app, ["accounts", "timeline", *args], env={"COLUMNS": "220"})


def test_the_timeline_is_a_table_with_each_message_and_reply(ledger: TestClient) -> None:
    shown = dunning("A1")
    assert shown.exit_code == 0, shown.output
    assert "Subject: Due" in shown.stdout
    assert "| Hi, $100.00 is due." in shown.stdout
    assert "| Pay at https://pay.example/x [bold]" in shown.stdout  # text, not markup
    assert "| call me tomorrow" in shown.stdout
    assert "intent call_me" in shown.stdout
    assert "[red]Eve[/red] =1+1" in shown.stdout
    missing = dunning("A99")
    assert missing.exit_code == 1
    assert "no account 'A99'" in missing.output


def test_the_page_and_the_pdf_are_written_to_files(ledger: TestClient, tmp_path: Path) -> None:
    page, pdf = tmp_path / "a1.html", tmp_path / "a1.pdf"
    wrote = dunning("A1", "--html", str(page))
    assert wrote.exit_code == 0, wrote.output
    assert "wrote" in wrote.stdout
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    assert "Hi, $100.00 is due." in html
    assert "[red]Eve[/red] =1+1" in html
    wrote = dunning("A1", "--pdf", str(pdf))
    assert wrote.exit_code == 0, wrote.output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "call me tomorrow" in text
    both = dunning("A1", "--html", str(page), "--pdf", str(pdf))
    assert both.exit_code == 1
    assert "not both" in both.output
