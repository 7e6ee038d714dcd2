"""The whole pipeline as separate processes on the real stack, for end-to-end tests.

Every service runs as its own process (``deploy/local/services.sh``), on this session's
own topics (a fresh prefix), database and Redis database, with one accelerated clock.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dunning_core.testing import REPO


@dataclass(frozen=True)
class Pipeline:
    ledger: str
    sandbox: str
    gate: str
    sms: str
    email: str
    scheduler: str
    clock_start: str
    clock_speed: float
    clock_epoch: float
    prefix: str


CLOCK_START = "2026-03-03T15:30:00+00:00"  # Tuesday: 10:30 New York, 07:30 Los Angeles
CLOCK_SPEED = 240.0


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, check=True, cwd=REPO, env=env)


@pytest.fixture(scope="session")
def pipeline(stack: None) -> Iterator[Pipeline]:
    prefix = f"e2e{uuid.uuid4().hex[:6]}."
    env = dict(os.environ)
    state_dir = Path(env.get("DUNNING_STATE_DIR", REPO / ".state"))
    key_path = state_dir / "sandbox" / "e2e-sendgrid.pem"
    epoch = time.time() + 8  # services need a few seconds to start: the clock starts then
    env.update(
        {
            "DUNNING_STATE_DIR": str(state_dir),
            "DUNNING_TOPIC_PREFIX": prefix,
            "DUNNING_DATABASE_URL": f"postgresql+asyncpg://dunning:dunning@127.0.0.1:15432/{prefix.rstrip('.')}",
            "DUNNING_REDIS_URL": "redis://127.0.0.1:16379/4",
            "DUNNING_CLOCK_START": CLOCK_START,
            "DUNNING_CLOCK_SPEED": str(CLOCK_SPEED),
            "DUNNING_CLOCK_EPOCH": str(epoch),
            "DUNNING_SMS_TWILIO_BASE_URL": "http://127.0.0.1:8010",
            "DUNNING_SMS_PUBLIC_BASE_URL": "http://127.0.0.1:8004",
            "DUNNING_EMAIL_SENDGRID_BASE_URL": "http://127.0.0.1:8010",
            "DUNNING_SANDBOX_TWILIO_INBOUND_URL": "http://127.0.0.1:8004/webhooks/twilio/inbound",
            "DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL": "http://127.0.0.1:8005/webhooks/sendgrid/events",
            "DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH": str(key_path),
        }
    )
    cli = ["uv", "run", "--frozen", "--no-sync", "dunning", "demo", "prepare"]
    public_key = (
        subprocess.run(
            [
                *cli,
                "--prefix",
                prefix,
                "--database",
                prefix.rstrip("."),
                "--redis-url",
                env["DUNNING_REDIS_URL"],
                "--signing-key",
                str(key_path),
            ],
            check=True,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    env["DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY"] = public_key
    # Services left from another run would carry another run's settings.
    _run(["bash", "deploy/local/services.sh", "stop"], env)
    _run(["bash", "deploy/local/services.sh", "start"], env)
    try:
        yield Pipeline(
            ledger="http://127.0.0.1:8001",
            sandbox="http://127.0.0.1:8010",
            gate="http://127.0.0.1:8003",
            sms="http://127.0.0.1:8004",
            email="http://127.0.0.1:8005",
            scheduler="http://127.0.0.1:8002",
            clock_start=CLOCK_START,
            clock_speed=CLOCK_SPEED,
            clock_epoch=epoch,
            prefix=prefix,
        )
    finally:
        _run(["bash", "deploy/local/services.sh", "stop"], env)
