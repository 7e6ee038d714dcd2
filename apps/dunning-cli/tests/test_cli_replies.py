"""``dunning replies classify``: the shared classifier's reading, offline, as JSON lines
or a table; a modified vocabulary folder can be checked before it ships."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dunning_cli.main import app
from dunning_replies.vocabulary import DEFAULT_DIR
from typer.testing import CliRunner

RUNNER = CliRunner()


def test_json_gives_one_object_per_text() -> None:
    texts = ["STOP", "No me escriba más", "退订", "I'll pay $50 on 12/15", "hello"]
    result = RUNNER.invoke(app, ["replies", "classify", "--json", *texts])

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == texts
    assert all(set(row) == {"text", "intent", "date", "amount"} for row in rows)
    assert [row["intent"] for row in rows[:3]] == ["opt_out", "opt_out", "opt_out"]
    promise = rows[3]
    assert promise["intent"] == "promise"
    assert promise["date"].endswith("-12-15")
    assert promise["amount"] == {"minor_units": 5000, "currency": "USD"}
    assert rows[4] == {"text": "hello", "intent": "unknown", "date": None, "amount": None}


def test_without_json_a_table() -> None:
    result = RUNNER.invoke(
        app, ["replies", "classify", "STOPALL", "I'll pay $50 on 12/15"], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    assert "opt_out_all" in result.stdout
    assert "USD 50.00" in result.stdout
    assert "intent" in result.stdout
    assert "amount" in result.stdout


def test_a_modified_vocabulary_is_checked_before_it_ships(tmp_path: Path) -> None:
    folder = tmp_path / "vocabulary"
    shutil.copytree(DEFAULT_DIR, folder)
    english = folder / "en.yaml"
    english.write_text(english.read_text(encoding="utf-8").replace("[help,", "[help, halp,", 1))
    args = ["replies", "classify", "--json", "halp"]

    shipped = json.loads(RUNNER.invoke(app, args).stdout)
    modified = json.loads(RUNNER.invoke(app, [*args, "--vocabulary", str(folder)]).stdout)

    assert shipped["intent"] != "help"
    assert modified["intent"] == "help"


def test_a_broken_vocabulary_is_reported(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("language: [\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["replies", "classify", "--vocabulary", str(tmp_path), "STOP"])

    assert result.exit_code == 2
    assert "en.yaml" in result.stderr


def test_a_reply_in_brackets_is_shown_as_written() -> None:
    from dunning_cli.replies import render_table
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(
        render_table([{"text": "[stop] please", "intent": "opt_out", "date": None, "amount": None}])
    )
    assert "[stop] please" in console.export_text()
