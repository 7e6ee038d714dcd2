"""`make demo` as CI sees it: no terminal, a small sample, every stage of the ladder, staying up.

The demo runs beside whatever else runs on this machine: its services listen 450 ports
above those of services.conf (a copy of it, DUNNING_SERVICES_CONF), keep their pid files
and logs in a state folder of their own (so stopping them stops nothing else), and use a
database, Redis database and topic prefix of their own, dropped afterwards. The stack is
the session's (DUNNING_STACK_EXTERNAL=1: the demo leaves it alone).

Off a terminal the progress is a plain line every few seconds, with no escape codes; the
summary names every stage of the ladder with steps; with DUNNING_DEMO_STAY=1 the demo
prints the dashboard's address and key, keeps the services answering, and stops them all
on Ctrl-C (SIGINT).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from dunning_cli.demo_view import LADDER
from dunning_testkit.paths import KAFKA, REPO, SERVICE_PORTS, STACK
from dunning_testkit.stack import drop_database

pytestmark = pytest.mark.e2e

SHIFT = 450  # the demo's ports: services.conf's plus this
ACCOUNTS = 30  # five of them authorised for legal action (every 5th), the rest fall back
LEDGER = f"http://127.0.0.1:{SERVICE_PORTS['ledger'] + SHIFT}"


class Output:
    """The demo's stdout and stderr, read line by line as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._process = process
        assert process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line)

    def wait_for(self, marker: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(marker in line for line in self.lines):
                return self.text
            if self._process.poll() is not None:
                self._reader.join(5)
                break
            time.sleep(0.5)
        raise AssertionError(f"no {marker!r} in the demo's output:\n{self.text[-6000:]}")

    @property
    def text(self) -> str:
        return "".join(self.lines)


def port_open(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    except httpx.HTTPError:
        return False
    return True


async def delete_topics(prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


@pytest.fixture
def demo_env(stack: None, tmp_path: Path) -> Iterator[dict[str, str]]:
    conf = tmp_path / "services.conf"
    conf.write_text(
        re.sub(
            r"(?m)^([a-z][a-z0-9-]*\s+)(\d+)",
            lambda m: f"{m[1]}{int(m[2]) + SHIFT}",
            (REPO / "deploy/local/services.conf").read_text(),
        )
    )
    tag = uuid.uuid4().hex[:6]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "DUNNING_STACK_EXTERNAL": "1",
        "DUNNING_STATE_DIR": str(tmp_path / "state"),
        "DUNNING_SERVICES_CONF": str(conf),
        "DEMO_ACCOUNTS": str(ACCOUNTS),
        # Not a race against the clock: on a busy machine the sample runs on (up to 5 min)
        # until every stage of the ladder has steps.
        "DEMO_GRACE_SECONDS": "300",
        "DEMO_DATABASE": f"demo_test_{tag}",
        "DEMO_REDIS_DB": "9",
        "DEMO_TOPIC_PREFIX": f"dtest{tag}.",
        "DUNNING_DEMO_STAY": "1",
    }
    yield env
    asyncio.run(drop_database(env["DEMO_DATABASE"]))
    asyncio.run(delete_topics(env["DEMO_TOPIC_PREFIX"]))


def test_the_demo_off_a_terminal_walks_every_stage_then_stays_until_ctrl_c(
    demo_env: dict[str, str],
) -> None:
    process = subprocess.Popen(
        ["bash", "deploy/local/demo.sh"],
        cwd=REPO,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    try:
        text = output.wait_for("Ctrl-C stops", timeout_s=720)

        # Off a terminal: plain progress lines, no escape codes (no live view).
        assert "\x1b" not in text
        progress = [line for line in text.splitlines() if line.startswith("  t+")]
        assert len(progress) >= 5, text
        assert "steps(approved/deferred/blocked)" in progress[-1]
        # The summary: every stage of the ladder had steps.
        summary = text[text.index("=== Dunning demo summary ===") :]
        for stage in LADDER:
            counts = re.search(rf"(?m)^  {stage}\s+(\d+):", summary)
            assert counts is not None, summary
            assert int(counts[1]) > 0, (stage, summary)
        assert "every stage had steps" in summary, summary
        # Staying up: the address to open and the key to sign in with; the ledger answers.
        assert "http://127.0.0.1:8459/" in text or "http://127.0.0.1:8009/" in text
        assert STACK["LOCAL_BOOTSTRAP_ADMIN_KEY"] in text
        assert httpx.get(f"{LEDGER}/health", timeout=5).status_code == 200

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 0, output.text[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            subprocess.run(
                ["bash", "deploy/local/services.sh", "stop"], cwd=REPO, env=demo_env, check=False
            )
    # Ctrl-C stopped every service the demo started.
    assert not [p for p in SERVICE_PORTS.values() if port_open(p + SHIFT)]
