"""``dunning accounts search`` against the ledger's real routes over in-memory tables."""

from __future__ import annotations

import pytest
from dunning_cli.main import app
from dunning_testkit.ledger import required_row
from dunning_testkit.paths import auth_headers
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result


@pytest.fixture
def accounts(ledger: TestClient) -> TestClient:
    rows = [required_row(n, full_name=f"Person {n}") for n in range(1, 6)]
    rows.append(required_row(6, full_name="[bold]Eve[/bold]", state="NY"))
    imported = ledger.post("/v1/accounts/import", json={"accounts": rows}, headers=auth_headers())
    assert imported.status_code == 200, imported.text
    return ledger


def dunning(*args: str) -> Result:
    return CliRunner().invoke(app, ["accounts", "search", *args], env={"COLUMNS": "200"})


def test_search_prints_a_table_page_by_page(accounts: TestClient) -> None:
    first = dunning("--limit", "2")
    assert first.exit_code == 0, first.output
    assert "A1" in first.stdout
    assert "A3" not in first.stdout
    assert "2 account(s)" in first.stdout
    assert "more" in first.stdout
    every = dunning("--limit", "2", "--pages", "9")
    assert "6 account(s)" in every.stdout


def test_filters_reach_the_ledger_and_names_stay_text(accounts: TestClient) -> None:
    found = dunning("--state", "ny")
    assert found.exit_code == 0, found.output
    assert "[bold]Eve[/bold]" in found.stdout
    assert "1 account(s)" in found.stdout


def test_a_refused_filter_is_explained(accounts: TestClient) -> None:
    refused = dunning("--phone", "not-a-phone")
    assert refused.exit_code == 1
    assert "not a phone number" in refused.output


def test_the_timeline_is_a_table(accounts: TestClient) -> None:
    shown = CliRunner().invoke(app, ["account", "A6", "--timeline"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "account opened" in shown.stdout
    assert "[bold]Eve[/bold]" in shown.stdout
    assert "America/New_York" in shown.stdout
    missing = CliRunner().invoke(app, ["account", "A99", "--timeline"])
    assert missing.exit_code == 1
    assert "no account 'A99'" in missing.output


def test_notes_are_written_and_listed(accounts: TestClient) -> None:
    written = CliRunner().invoke(app, ["accounts", "note", "A1", "=asked for email only"])
    assert written.exit_code == 0, written.output
    assert "recorded by" in written.stdout
    listed = CliRunner().invoke(app, ["accounts", "notes", "A1"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "=asked for email only" in listed.stdout
