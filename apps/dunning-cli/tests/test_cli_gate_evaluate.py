"""``dunning gate evaluate`` and ``gate schema``: the gate's what-if routes, over HTTP.

The gate's router is served on loopback (no Kafka, Redis or PostgreSQL): the CLI reads
what the route answers, with no gate code of its own.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from dunning_cli.main import app
from dunning_gate.api import router
from dunning_gate.domain.examples import example_request, with_changes
from dunning_gate.policy.loader import default_policy
from dunning_testkit.servers import BackgroundServer
from fastapi import FastAPI
from typer.testing import CliRunner, Result


@pytest.fixture(scope="module")
def gate_url() -> Iterator[str]:
    api = FastAPI()
    api.include_router(router(default_policy()))
    with BackgroundServer(api) as server:
        yield server.base_url


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_an_allowed_step_prints_the_decision_and_exits_0(gate_url: str, tmp_path: Path) -> None:
    request = tmp_path / "step.json"
    request.write_text(json.dumps(example_request()))

    result = cli("gate", "evaluate", str(request), "--gate", gate_url)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "decision:       allow"
    assert lines[1].startswith("policy_version: ")
    assert "  no rule objects" in lines


def test_a_blocked_step_names_the_rule_and_exits_4(gate_url: str, tmp_path: Path) -> None:
    request = tmp_path / "bad.json"
    request.write_text(json.dumps(with_changes(example_request(), {"step.channel": "fax"})))

    result = cli("gate", "evaluate", str(request), "--gate", gate_url)

    assert result.exit_code == 4, result.output
    assert result.stdout.splitlines()[0] == "decision:       block"
    assert "input.invalid" in result.stdout


def test_an_unreadable_file_exits_2(gate_url: str, tmp_path: Path) -> None:
    result = cli("gate", "evaluate", str(tmp_path / "missing.json"), "--gate", gate_url)

    assert result.exit_code == 2
    assert result.stderr.startswith("dunning: ")


def test_schema_prints_the_gate_request_schema(gate_url: str) -> None:
    result = cli("gate", "schema", "--gate", gate_url)

    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert "step" in schema["properties"]


def test_evaluate_without_a_gate_fails_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    request = tmp_path / "step.json"
    request.write_text(json.dumps(example_request()))

    result = cli("gate", "evaluate", str(request), "--gate", closed)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"dunning: cannot reach the gate at {closed}: ")
