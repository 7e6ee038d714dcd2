"""``dunning import FILE`` against the ledger's real routes over in-memory tables."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from dunning_cli.main import app
from dunning_testkit.ledger import import_row, to_csv
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result


def dunning(*args: str) -> Result:
    return CliRunner().invoke(app, ["import", *args], env={"COLUMNS": "200"})


def test_a_csv_streams_with_progress_and_ends_in_a_table(
    ledger: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(to_csv([import_row(n) for n in range(1, 31)]))
    done = dunning(str(path))
    assert done.exit_code == 0, done.output
    assert "opened" in done.stdout
    assert "30" in done.stdout
    assert "rows/s" in done.stderr

    again = dunning(str(path), "--json")
    assert json.loads(again.stdout)["unchanged"] == 30


def test_json_lines_go_by_their_extension(ledger: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_bytes(b"".join(orjson.dumps(import_row(n)) + b"\n" for n in range(1, 4)))
    done = dunning(str(path), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["opened"] == 3


def test_a_refused_file_lists_rows_and_fields_and_fails(ledger: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(to_csv([import_row(1), import_row(2, state="XX")]))
    refused = dunning(str(path))
    assert refused.exit_code == 1
    assert "nothing was imported" in refused.stdout
    assert "state" in refused.stdout
    assert "XX" in refused.stdout
