"""``dunning --help``: each command listed once (not again in a hand-written list)."""

from __future__ import annotations

import re

from dunning_cli.main import app
from typer.testing import CliRunner


def test_help_lists_each_command_once() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for command in ("portfolio", "import", "summary", "account", "gate", "demo"):
        mentions = re.findall(rf"(?m)^\W*(?:dunning )?{command}\b", result.stdout)
        assert len(mentions) == 1, (command, result.stdout)
