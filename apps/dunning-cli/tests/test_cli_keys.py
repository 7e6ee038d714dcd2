"""``dunning keys`` against the ledger's real routes (its use cases over in-memory tables):
the key printed once, the table, refusals the CLI explains, and where the CLI's own key
comes from (environment or config file, never an argument)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dunning_cli.main import app
from dunning_testkit.paths import ADMIN_KEY
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

KEY = re.compile(r"^dun_[0-9a-f]{12}_\S+$", re.MULTILINE)


def dunning(*args: str, key: str | None = None) -> Result:
    env = {"COLUMNS": "200"} | ({"DUNNING_API_KEY": key} if key else {})
    return CliRunner().invoke(app, ["keys", *args], env=env)


def test_a_key_is_printed_once_then_listed_without_it(ledger: TestClient) -> None:
    created = dunning("create", "--name", "ops-jane", "--role", "operator")
    assert created.exit_code == 0, created.output
    [key] = KEY.findall(created.stdout)
    assert "ops-jane" in created.stdout
    assert "operator" in created.stdout

    listed = dunning("list")
    assert listed.exit_code == 0, listed.output
    assert "ops-jane" in listed.stdout
    assert key not in listed.stdout
    assert key[4:16] in listed.stdout  # the key id


def test_a_key_without_admin_rights_is_told_which_role_is_needed(ledger: TestClient) -> None:
    key = KEY.findall(dunning("create", "--name", "agent-ann", "--role", "agent").stdout)[0]
    refused = dunning("list", key=key)
    assert refused.exit_code == 1
    assert "role 'agent' may not keys.manage" in refused.stderr
    assert "admin" in refused.stderr


def test_a_revoked_key_is_refused_with_a_message(ledger: TestClient) -> None:
    key = KEY.findall(dunning("create", "--name", "ops-jane", "--role", "operator").stdout)[0]
    revoked = dunning("revoke", key[4:16])
    assert revoked.exit_code == 0, revoked.output
    assert "bootstrap-admin" in revoked.stdout
    refused = CliRunner().invoke(app, ["summary"], env={"DUNNING_API_KEY": key})
    assert refused.exit_code == 1
    assert "refused the API key" in refused.stderr
    assert "was revoked" in refused.stderr


def test_a_bad_role_is_refused_before_any_request(ledger: TestClient) -> None:
    result = dunning("create", "--name", "x", "--role", "root")
    assert result.exit_code == 2
    assert "--role must be one of" in result.stderr


def test_the_key_can_come_from_the_config_file(
    ledger: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DUNNING_API_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert dunning("list").exit_code == 1  # no key anywhere: 401, explained
    (tmp_path / "dunning").mkdir()
    (tmp_path / "dunning" / "config.toml").write_text(f'api_key = "{ADMIN_KEY}"\n')
    assert dunning("list").exit_code == 0


def test_no_command_takes_the_key_as_an_argument() -> None:
    for command in ("create", "list", "revoke"):
        shown = CliRunner().invoke(app, ["keys", command, "--help"], env={"COLUMNS": "200"})
        assert "--key" not in shown.stdout
        assert "--api-key" not in shown.stdout
