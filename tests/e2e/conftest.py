"""The whole pipeline as separate processes on the real stack, for end-to-end tests.

Every service runs as its own process (``deploy/local/services.sh``), on this session's
own topics (a fresh prefix), database and Redis database, with one accelerated clock.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer
from dunning_testkit.paths import service_url
from dunning_testkit.stack import KAFKA, REPO, pipeline_env


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


def payments_consumer(prefix: str, group: str) -> AIOKafkaConsumer:
    """A reader of the run's payments.v1 from its start, in the group ``<prefix><group>``."""
    return AIOKafkaConsumer(
        f"{prefix}payments.v1",
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
        group_id=f"{prefix}{group}",
    )


async def until(
    check: Callable[[], Awaitable[Sequence[str] | str]],
    timeout_s: float,
    what: str,
    every_s: float = 2.0,
) -> None:
    """Poll ``check`` (async, returning what is still wrong: a list or a message) until it
    returns an empty one."""
    left: Sequence[str] | str = ""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = await check()
        if not left:
            return
        await asyncio.sleep(every_s)
    shown = left if isinstance(left, str) else list(left[:10])
    raise AssertionError(f"{what}: still wrong after {timeout_s:.0f}s: {shown}")


def _services(command: str, env: dict[str, str]) -> None:
    subprocess.run(["bash", "deploy/local/services.sh", command], check=True, cwd=REPO, env=env)


@contextmanager
def services_running(
    prefix: str,
    redis_db: int,
    settings: Mapping[str, str] | None = None,
    clock_speed: float = CLOCK_SPEED,
    start_after_s: float = 12.0,
) -> Iterator[dict[str, str]]:
    """Every service of services.conf as processes on ``prefix`` (its own topics, database
    and Redis database ``redis_db``), with ``settings`` added to their environment, which
    it yields. The simulated clock starts at CLOCK_START ``start_after_s`` from now, past
    the services' usual start-up time (~10 s on an idle machine); it then waits for it, so
    the accounts arrive at CLOCK_START. A start-up slower than that starts the clock early
    by as much (at 240x, one up to ~45 s still leaves Hawaii before 08:00)."""
    env = pipeline_env(
        prefix,
        prefix.rstrip("."),
        f"redis://127.0.0.1:16379/{redis_db}",
        clock_start=CLOCK_START,
        clock_speed=clock_speed,
        clock_epoch=time.time() + start_after_s,
        key_name="e2e-sendgrid.pem",
    )
    env.update(settings or {})
    # Services left from another run would carry another run's settings.
    _services("stop", env)
    _services("start", env)
    time.sleep(max(0.0, float(env["DUNNING_CLOCK_EPOCH"]) - time.time()))
    try:
        yield env
    finally:
        _services("stop", env)


@pytest.fixture(scope="session")
def pipeline(stack: None) -> Iterator[Pipeline]:
    prefix = f"e2e{uuid.uuid4().hex[:6]}."
    with services_running(prefix, 4) as env:
        yield Pipeline(
            ledger=service_url("ledger"),
            sandbox=service_url("sandbox"),
            gate=service_url("gate"),
            sms=service_url("sms"),
            email=service_url("email"),
            scheduler=service_url("scheduler"),
            clock_start=CLOCK_START,
            clock_speed=CLOCK_SPEED,
            clock_epoch=float(env["DUNNING_CLOCK_EPOCH"]),
            prefix=prefix,
        )
