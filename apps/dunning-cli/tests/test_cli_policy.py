"""``dunning policy check|show`` and the ``./dunning`` launcher."""

from __future__ import annotations

import os
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from dunning_cli.main import app
from dunning_gate.policy.loader import PolicyError as GatePolicyError
from dunning_gate.policy.loader import load_policy as load_gate_policy
from dunning_scheduler.adapters.rendering import build_renderer
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.policy.loader import PolicyError, load_policy
from typer.testing import CliRunner, Result

LADDER = resources.files("dunning_scheduler.policy").joinpath("default.yaml").read_text()
RULES = resources.files("dunning_gate.policy").joinpath("default_policy.yaml").read_text()
REPO = Path(__file__).resolve().parents[3]


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})


def written(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_with(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_default_ladder_and_rules_are_valid(tmp_path: Path) -> None:
    ladder = cli("policy", "check", str(written(tmp_path, "ladder.yaml", LADDER)))
    rules = cli("policy", "check", str(written(tmp_path, "rules.yaml", RULES)))

    assert ladder.exit_code == 0, ladder.output
    assert "a valid escalation policy, default version 2026-03-01, 4 stages" in ladder.stdout
    assert rules.exit_code == 0, rules.output
    assert "a valid compliance-gate policy" in rules.stdout


def test_a_bad_ladder_is_refused_with_the_schedulers_message_naming_field_and_line(
    tmp_path: Path,
) -> None:
    path = written(tmp_path, "ladder.yaml", LADDER.replace("max_attempts: 2", "max_attempts: 20"))
    with pytest.raises(PolicyError) as refused:  # what the scheduler says at start-up
        load_policy(path, build_renderer(SchedulerSettings()).names)

    result = cli("policy", "check", str(path))

    assert result.exit_code == 1
    assert result.stderr == f"dunning: {refused.value}\n"
    line = line_with(LADDER, "max_attempts: 2")
    assert f"stages.0.max_attempts: Input should be less than or equal to 10 (line {line})" in (
        result.stderr
    )


def test_an_unknown_template_is_named_with_its_line(tmp_path: Path) -> None:
    bad = LADDER.replace("templates: [urgency]", "templates: [urgent]")
    result = cli("policy", "check", str(written(tmp_path, "ladder.yaml", bad)))

    assert result.exit_code == 1
    line = line_with(bad, "templates: [urgent]")
    assert f"unknown templates urgent in stages.1.templates (line {line})" in result.stderr


def test_a_bad_gate_policy_is_refused_with_the_gates_message_and_the_line(tmp_path: Path) -> None:
    bad = RULES.replace('policy_version: "2026.12-default"', 'policy_version: ""')
    assert bad != RULES
    path = written(tmp_path, "rules.yaml", bad)
    with pytest.raises(GatePolicyError) as refused:
        load_gate_policy(path)
    gate_says = str(refused.value).splitlines()[-1].strip()  # "policy_version: ..."

    result = cli("policy", "check", str(path), "--kind", "gate")

    assert result.exit_code == 1
    line = line_with(bad, "policy_version:")
    assert f"{gate_says} (line {line})" in result.stderr


def test_an_unreadable_file_and_an_unknown_kind_fail(tmp_path: Path) -> None:
    missing = cli("policy", "check", str(tmp_path / "nope.yaml"))
    unknown = cli("policy", "check", str(tmp_path / "nope.yaml"), "--kind", "ledger")

    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    assert unknown.exit_code == 2


def test_show_prints_the_ladder_as_a_table(tmp_path: Path) -> None:
    result = cli("policy", "show")

    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    first = rows[0].split("│")
    assert [c.strip() for c in first[1:-1]] == [
        "1", "friendly_reminder", "d0", "sms, email", "friendly_reminder", "2, every 5 d",
    ]  # fmt: skip
    assert any("legal_warning" in row and "+14" in row for row in rows)
    assert any("else final_notice" in row for row in rows)
    plans = " ".join(result.stdout.split())
    assert "reminders 3 days before each installment and 1 before a promised date" in plans
    assert "a broken plan or promise resumes at urgency" in plans
    custom = LADDER.replace("name: default", "name: gentle")
    shown = cli("policy", "show", str(written(tmp_path, "ladder.yaml", custom)))
    assert "escalation policy gentle" in shown.stdout


def test_show_of_a_bad_file_fails_with_the_reason(tmp_path: Path) -> None:
    bad = written(tmp_path, "ladder.yaml", LADDER.replace("offset_days: 7", "offset_days: -7"))
    result = cli("policy", "show", str(bad))

    assert result.exit_code == 1
    assert "stages.1.offset_days: Input should be greater than or equal to 0 (line" in result.stderr


def test_the_launcher_works_from_a_fresh_shell_without_uv_on_path(tmp_path: Path) -> None:
    env = {"HOME": os.environ.get("HOME", str(tmp_path)), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(REPO / "dunning"), "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "policy" in result.stdout
    assert "portfolio" in result.stdout
