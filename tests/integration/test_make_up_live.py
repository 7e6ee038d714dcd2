"""`make up` with real provider credentials in the environment (as `.env` gives them).

The real APIs cannot be reached from here; what can be checked is the switch: a real
SendGrid key without the Event Webhook's verification key is refused before any service
starts, with a message that names the missing variable.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from dunning_testkit.paths import REPO

pytestmark = pytest.mark.integration


def bash(
    env: dict[str, str], *script: str, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """A script of the repository run as `make` runs it, its output kept, its status not checked."""
    return subprocess.run(
        ["bash", *script], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def status(env: dict[str, str]) -> list[list[str]]:
    """Each service's name, up or down, and pid (not its health, which may move)."""
    out = bash(env, "deploy/local/services.sh", "status").stdout
    return [line.split()[:4] for line in out.splitlines() if line.strip()]


def test_a_live_sendgrid_key_without_its_webhook_key_starts_nothing(stack: None) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "DUNNING_EMAIL_SENDGRID_API_KEY": "SG.a-real-looking-key",
        "DUNNING_STATE_DIR": str(REPO / ".state"),
    }
    before = status(env)
    done = bash(env, "deploy/local/up.sh", timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY" in done.stderr
    assert "Dunning is up" not in done.stdout
    # Nothing started (other tests' services may be running: the same ones as before).
    assert status(env) == before
