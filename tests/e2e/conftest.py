"""The whole pipeline as separate processes on the real stack, for end-to-end tests.

Every service runs as its own process (``deploy/local/services.sh``), on this session's
own topics (a fresh prefix), database and Redis database, with one accelerated clock.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from dunning_testkit.stack import REPO, pipeline_env


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
    # The simulated clock starts at the epoch, set past the services' usual start-up time;
    # the fixture then waits for it, so the accounts arrive at CLOCK_START even on a loaded
    # machine (a start-up of up to ~55 s still leaves Hawaii before 08:00).
    epoch = time.time() + 20
    env = pipeline_env(
        prefix,
        prefix.rstrip("."),
        "redis://127.0.0.1:16379/4",
        clock_start=CLOCK_START,
        clock_speed=CLOCK_SPEED,
        clock_epoch=epoch,
        key_name="e2e-sendgrid.pem",
    )
    # Services left from another run would carry another run's settings.
    _run(["bash", "deploy/local/services.sh", "stop"], env)
    _run(["bash", "deploy/local/services.sh", "start"], env)
    time.sleep(max(0.0, epoch - time.time()))
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
