"""The chaos suite's short form: a small portfolio, a few faults of each kind, at most ~5 minutes.

Runs ``tests.chaos.driver`` in its own process against its own stack (``cluster.sh``: never
the shared local stack, never ports 8001-8010) and asserts what the issue asks: nothing lost,
nothing sent twice, nothing sent against the rules, every poison event in its DLQ. The full
run is ``make chaos``. The figures of the short form go to ``.state-chaos/chaos-short.json``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from dunning_testkit.paths import REPO

from tests.chaos.pipeline import STATE_DIR

pytestmark = pytest.mark.chaos

SHORT = [
    "--accounts", os.environ.get("DUNNING_CHAOS_SHORT_ACCOUNTS", "800"),
    "--run-seconds", "80", "--fault-every", "6", "--overlap", "3", "--settle-seconds", "95",
]  # fmt: skip


# About 4 minutes on an idle machine; a hang guard, not a speed target (at a load average
# of 20-40 a broker takes 2 minutes to come back and the run twice as long).
LIMIT_S = 900


def test_nothing_lost_doubled_or_unlawful_under_faults() -> None:
    out = STATE_DIR / "chaos-short.json"
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.driver", *SHORT, "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        stdout, stderr = driver.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        # SIGTERM: the driver stops every service it started and its cluster (a SIGKILL
        # left them running after the test).
        driver.send_signal(signal.SIGTERM)
        stdout, stderr = driver.communicate(timeout=120)
        pytest.fail(f"the short form took over {LIMIT_S} s: {stdout[-3000:]} {stderr[-2000:]}")
    done = subprocess.CompletedProcess(driver.args, driver.returncode, stdout, stderr)
    print(done.stdout[-6000:], done.stderr[-3000:])
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["steps"] > 0
    found = {k: figures[k] for k in ("lost", "duplicated", "violations", "poison_missing")}
    assert found == {"lost": 0, "duplicated": 0, "violations": 0, "poison_missing": 0}, done.stdout[
        -4000:
    ]
