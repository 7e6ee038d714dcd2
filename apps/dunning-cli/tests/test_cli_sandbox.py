"""`dunning sandbox inbox`: what a consumer received, read from the sandbox's own record."""

from __future__ import annotations

from typing import Any

from dunning_cli.main import app as cli
from dunning_cli.sandbox import inbox_table, received_by
from dunning_testkit.servers import recording_server, sandbox_server
from rich.console import Console
from typer.testing import CliRunner

MESSAGES: list[dict[str, Any]] = [
    {"channel": "inbound", "from": "+12125550100", "to": "+15005550006", "body": "STOP"},
    {
        "channel": "sms",
        "to": "+12125550100",
        "body": "Acme: a friendly reminder",
        "status": "delivered",
        "date_created": "Tue, 03 Mar 2026 15:00:00 +0000",
    },
    {
        "channel": "email",
        "to": ["Jane.Doe@example.com"],
        "subject": "Your account",
        "events": ["delivered", "open"],
        "created_at": 1772553600,
    },
    {"channel": "sms", "to": "+13105550199", "body": "other", "status": "sent"},
]


def test_the_consumers_own_texts_are_not_in_their_inbox() -> None:
    assert [m["channel"] for m in received_by(MESSAGES, None)] == ["sms", "email", "sms"]


def test_one_phone_or_address_case_insensitively() -> None:
    assert [m["body"] for m in received_by(MESSAGES, "+12125550100")] == [
        "Acme: a friendly reminder"
    ]
    assert [m["subject"] for m in received_by(MESSAGES, "jane.doe@EXAMPLE.com")] == ["Your account"]
    assert received_by(MESSAGES, "+19999999999") == []


def test_the_table_shows_text_subject_and_where_each_stands() -> None:
    console = Console(width=200, record=True)
    console.print(inbox_table(received_by(MESSAGES, None)))
    text = console.export_text()
    assert "Acme: a friendly reminder" in text
    assert "[subject] Your account" in text
    assert "delivered, open" in text
    assert "2026-03-03 16:00:00" in text  # an epoch second, shown in UTC


def test_a_free_text_email_reply_is_posted_through_inbound_parse() -> None:
    with recording_server() as recorder:
        inbound = f"{recorder.base_url}/webhooks/sendgrid/inbound/t0ken"
        with sandbox_server(sendgrid_inbound_url=inbound) as sandbox:
            args = ["sandbox", "reply", "jane@example.com", "I can't pay now", "--sandbox", sandbox]
            result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        [request] = recorder.requests("/webhooks/sendgrid/inbound/t0ken")
        assert request.headers["content-type"].startswith("multipart/form-data")
        assert b"I can't pay now" in request.body
