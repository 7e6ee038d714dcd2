"""``dunning tasks list|claim|complete`` against the ledger's real routes over in-memory
tables: a call_me reply recorded by the ledger shows as a task, is claimed and completed."""

from __future__ import annotations

from datetime import UTC, datetime

from dunning_cli.main import app
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_testkit.ledger import required_row
from dunning_testkit.paths import auth_headers
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result


def dunning(*args: str) -> Result:
    return CliRunner().invoke(app, ["tasks", *args], env={"COLUMNS": "220"})


async def test_list_claim_complete(ledger: TestClient) -> None:
    imported = ledger.post(
        "/v1/accounts/import", json={"accounts": [required_row(1)]}, headers=auth_headers()
    )
    assert imported.status_code == 200, imported.text
    signal = ConsumerSignaled(
        account_id="A1", signal_id="SM1", kind=SignalKind.REPLIED, channel=Channel.SMS,
        text="[bold]call me[/bold]", source="sms", occurred_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
        details={"intent": "call_me"},
    )  # fmt: skip
    communications = ledger.app.state.use_cases.communications  # type: ignore[attr-defined]
    assert await communications.record_events("ledger", [wrap(signal, "sms")]) == 1
    listed = dunning("list", "--status", "open")
    assert listed.exit_code == 0, listed.output
    assert "call_back" in listed.stdout
    assert "[bold]call me[/bold]" in listed.stdout  # the reply as text, not markup
    assert "1 task(s)" in listed.stdout
    task_id = ledger.get("/v1/tasks", headers=auth_headers()).json()["tasks"][0]["task_id"]
    claimed = dunning("claim", task_id)
    assert claimed.exit_code == 0, claimed.output
    assert "bootstrap-admin" in claimed.stdout
    done = dunning("complete", task_id, "called back: pays Friday")
    assert done.exit_code == 0, done.output
    assert "pays Friday" in done.stdout
    assert "done" in dunning("list").stdout
    assert "0 task(s)" in dunning("list", "--status", "open").stdout
    refused = dunning("claim", task_id)
    assert refused.exit_code == 1
    assert "already closed" in refused.output
    bad = dunning("list", "--status", "pending")
    assert bad.exit_code == 1
    assert "422" in bad.output
