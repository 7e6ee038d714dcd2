"""Pytest fixtures for tests against the real local stack (a pytest plugin).

The stack (Kafka, Redis, PostgreSQL) is started once per test session by the project's
own ``deploy/local/stack.sh up``. Each test isolates its data: its own topic prefix, its
own Redis key namespace, its own database when it needs one.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from dunning_core.contracts.topics import ALL_TOPICS, AUTH_KEYS, dlq
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.paths import (
    KAFKA,
    PG_ADMIN_DSN,
    REDIS_URL,
    REPO,
    database_url,
    service_url,
    use_local_keys,
)

__all__ = ["KAFKA", "PG_ADMIN_DSN", "REDIS_URL", "REPO"]

# Every service a test builds accepts the local bootstrap admin key (auth_headers()).
use_local_keys()


@pytest.fixture(scope="session")
def stack() -> None:
    """Kafka, Redis and PostgreSQL up for the whole session (started if not running)."""
    if os.environ.get("DUNNING_STACK_EXTERNAL") != "1":
        subprocess.run([str(REPO / "deploy/local/stack.sh"), "up"], check=True)


@pytest.fixture
def prefix() -> str:
    """A unique topic/key prefix for one test."""
    return f"t{uuid.uuid4().hex[:10]}."


async def create_topics(prefix: str, partitions: int = 3) -> list[str]:
    """Create every contract topic and its DLQ, and the compacted API key topic, under
    ``prefix``; returns their names."""
    names = [prefix + t for t in ALL_TOPICS] + [prefix + dlq(t) for t in ALL_TOPICS]
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    n,
                    num_partitions=partitions if not n.endswith(".dlq") else 1,
                    replication_factor=1,
                )
                for n in names
            ]
            + [NewTopic(prefix + AUTH_KEYS, 1, 1, topic_configs={"cleanup.policy": "compact"})]
        )
        names.append(prefix + AUTH_KEYS)
    finally:
        await admin.close()
    return names


@pytest.fixture
async def topics(stack: None, prefix: str) -> AsyncIterator[str]:
    """Fresh topics for one test; yields the prefix. Deleted afterwards."""
    names = await create_topics(prefix)
    yield prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics(names)
    except Exception:  # deletion is housekeeping; a failure must not fail the test
        pass
    finally:
        await admin.close()


@pytest.fixture
async def producer(topics: str) -> AsyncIterator[EventProducer]:
    """A started producer (source ``test``) on this test's topics; stopped afterwards."""
    started = EventProducer(KAFKA, "test", topic_prefix=topics)
    await started.start()
    yield started
    await started.stop()


async def create_database(name: str) -> str:
    """A fresh, empty database; returns its SQLAlchemy asyncpg URL."""
    await drop_database(name)
    await _admin_execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


async def drop_database(name: str) -> None:
    """Drop a database, ending whatever is still connected to it."""
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_execute(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def fresh_database(stack: None) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """Factory: ``await fresh_database("ledger")`` gives a new empty database's URL.

    The databases it made are dropped when the test is over (after the fixtures that use
    them have stopped)."""
    made: list[str] = []

    async def make(label: str) -> str:
        name = f"test_{label}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        return await create_database(name)

    yield make
    for name in made:
        await drop_database(name)


def pipeline_env(
    prefix: str,
    database: str,
    redis_url: str,
    *,
    clock_start: str,
    clock_speed: float,
    clock_epoch: float,
    key_name: str = "pipeline-sendgrid.pem",
) -> dict[str, str]:
    """The environment for ``deploy/local/services.sh`` to run the whole pipeline of one run.

    The run gets its own topics (``prefix``), database and Redis database, made fresh by
    ``dunning demo prepare``; the workers talk to the provider sandbox, whose SendGrid
    signing key (made if missing) the email worker is given the public half of; every
    service shares one clock. Used by the end-to-end tests and the pipeline benchmark.
    """
    env = dict(os.environ)
    state_dir = Path(env.get("DUNNING_STATE_DIR", REPO / ".state"))
    key_path = state_dir / "sandbox" / key_name
    env.update(
        {
            "DUNNING_STATE_DIR": str(state_dir),
            "DUNNING_TOPIC_PREFIX": prefix,
            "DUNNING_DATABASE_URL": database_url(database),
            "DUNNING_REDIS_URL": redis_url,
            "DUNNING_CLOCK_START": clock_start,
            "DUNNING_CLOCK_SPEED": str(clock_speed),
            "DUNNING_CLOCK_EPOCH": f"{clock_epoch:.3f}",
            "DUNNING_SMS_TWILIO_BASE_URL": service_url("sandbox"),
            # The providers call the webhook ingresses, not the workers.
            "DUNNING_SMS_PUBLIC_BASE_URL": service_url("sms-ingress"),
            "DUNNING_EMAIL_SENDGRID_BASE_URL": service_url("sandbox"),
            "DUNNING_SANDBOX_TWILIO_INBOUND_URL": service_url("sms-ingress")
            + "/webhooks/twilio/inbound",
            "DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL": service_url("email-ingress")
            + "/webhooks/sendgrid/events",
            "DUNNING_SANDBOX_SENDGRID_INBOUND_URL": service_url("email-ingress")
            + "/webhooks/sendgrid/inbound/"
            + env.get("DUNNING_EMAIL_INBOUND_TOKEN", "sandbox-inbound-token"),
            "DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH": str(key_path),
        }
    )
    prepare = [
        "uv", "run", "--frozen", "--no-sync", "dunning", "demo", "prepare",
        "--prefix", prefix, "--database", database, "--redis-url", redis_url,
        "--signing-key", str(key_path),
    ]  # fmt: skip
    done = subprocess.run(prepare, check=True, cwd=REPO, env=env, capture_output=True, text=True)
    env["DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY"] = done.stdout.strip().splitlines()[-1]
    return env
