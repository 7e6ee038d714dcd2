"""The chaos run's environment: the separate stack made ready, the services' settings, lag.

Everything here points at ``cluster.sh``'s stack (never the shared local stack) and at the
replicas' own ports; the driver (``driver.py``) runs the rest.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from dunning_cli.demo import signing_public_key
from dunning_testkit.paths import REPO, service_lines

from tests.chaos.fleet import (
    BROKERS,
    KAFKA,
    PG_ADMIN_DSN,
    REDIS_URL,
    Fleet,
    cluster,
    pg_dsn,
)

STATE_DIR = Path(os.environ.get("DUNNING_CHAOS_STATE_DIR", REPO / ".state-chaos"))
CLOCK_START = "2026-03-03T13:00:00+00:00"  # Tuesday 08:00 in New York, 03:00 in Honolulu
SMS_NUMBER = "+15005550006"


# The provider sandbox reaches each channel's webhook receivers through a balancer.
BALANCER_PORTS = {"sms": 8121, "email": 8122}


def webhook_receiver(channel: str) -> str:
    """The service that takes a channel's webhooks: its ingress if main has one, else the worker."""
    names = [s.name for s in service_lines()]
    return next((n for n in (f"{channel}-ingress", f"{channel}-webhooks") if n in names), channel)


def base_env(prefix: str, database: str, speed: float, epoch: float, key: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    sandbox = f"http://127.0.0.1:{Fleet().port('sandbox')}"
    sms, email = BALANCER_PORTS["sms"], BALANCER_PORTS["email"]
    env.update(
        {
            "DUNNING_KAFKA_BOOTSTRAP": KAFKA,
            "DUNNING_REDIS_URL": REDIS_URL,
            "DUNNING_DATABASE_URL": pg_dsn(database).replace("postgresql:", "postgresql+asyncpg:"),
            "DUNNING_TOPIC_PREFIX": prefix,
            "DUNNING_CLOCK_START": CLOCK_START,
            "DUNNING_CLOCK_SPEED": str(speed),
            "DUNNING_CLOCK_EPOCH": f"{epoch:.3f}",
            "DUNNING_LOG_JSON": "true",
            "DUNNING_SMS_TWILIO_BASE_URL": sandbox,
            "DUNNING_SMS_PUBLIC_BASE_URL": f"http://127.0.0.1:{sms}",
            "DUNNING_EMAIL_SENDGRID_BASE_URL": sandbox,
            "DUNNING_SANDBOX_TWILIO_INBOUND_URL": f"http://127.0.0.1:{sms}/webhooks/twilio/inbound",
            "DUNNING_SANDBOX_SENDGRID_EVENT_WEBHOOK_URL": (
                f"http://127.0.0.1:{email}/webhooks/sendgrid/events"
            ),
            "DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH": str(key),
            "DUNNING_SANDBOX_MAX_STORED_MESSAGES": "1000000",
            "DUNNING_EMAIL_SENDGRID_WEBHOOK_PUBLIC_KEY": signing_public_key(key),
            # The channels' send journals replicated as the run's topics are (and as the k8s
            # base has it): with one replica, a broker down stalled a worker's start and its
            # sends (a journal partition without a leader) for as long as the broker was down.
            "DUNNING_SMS_JOURNAL_REPLICATION": str(BROKERS),
            "DUNNING_EMAIL_JOURNAL_REPLICATION": str(BROKERS),
            # A send of unknown outcome is asked about after 20 wall s (twice the provider
            # timeout; the default 60 s is 60 simulated hours here, past the end of a drain).
            "DUNNING_SMS_RECONCILE_AFTER_S": "20",
            "DUNNING_EMAIL_RECONCILE_AFTER_S": "20",
            # A retry waits at most 8 s (the default 60 s): the standing-fault destinations
            # spend their budget of six calls in ~30 s rather than ~60 s, which the drain
            # waits out (``Drain.retries_done``); the attempts and their order are the same.
            "DUNNING_SMS_RETRY_MAX_DELAY_S": "8",
            "DUNNING_EMAIL_RETRY_MAX_DELAY_S": "8",
            # The run's own API keys: the driver talks to the ledger as its bootstrap admin.
            "DUNNING_BOOTSTRAP_ADMIN_KEY": f"chaos-admin-{secrets.token_hex(16)}",
            "DUNNING_AUTH_PEPPER": secrets.token_hex(16),
        }
    )
    return env


async def prepare(prefix: str, database: str, reset: bool) -> None:
    if reset:  # a clean cluster: no topics, groups or data of an earlier run
        cluster("reset", state_dir=STATE_DIR)
    done = cluster("up", state_dir=STATE_DIR)
    print(done.stdout.strip(), flush=True)
    for attempt in range(3):  # a cluster just started may still be electing its leaders
        made = cluster("topics", prefix, state_dir=STATE_DIR, check=False)
        if made.returncode == 0:
            break
        print(f"topics not created ({made.stderr.strip()[-300:]}); again", flush=True)
        if attempt == 2:
            raise RuntimeError(f"the run's topics could not be created: {made.stderr[-1000:]}")
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def group_lags(prefix: str) -> dict[str, int] | None:
    """Per consumer group, records of the run's topics not yet consumed (None: no answer)."""
    positions = await group_positions(prefix)
    if positions is None:
        return None
    committed, ends = positions
    return {
        group: int(sum(max(0, ends[tp] - off) for tp, off in offsets.items()))
        for group, offsets in committed.items()
    }


Offsets = dict[TopicPartition, int]


async def group_positions(prefix: str) -> tuple[dict[str, Offsets], Offsets] | None:
    """Each group's committed offsets on the run's topics, and those partitions' end
    offsets (None: Kafka did not answer)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=5000)
    try:
        await admin.start()
        groups = [g[0] for g in await admin.list_consumer_groups()]
        committed: dict[str, Offsets] = {}
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            committed[group] = {
                tp: meta.offset for tp, meta in offsets.items() if tp.topic.startswith(prefix)
            }
        parts = list({tp for offsets in committed.values() for tp in offsets})
        if not parts:
            return committed, {}
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(parts)
        finally:
            await consumer.stop()
        return committed, dict(ends)
    except Exception:  # any Kafka trouble: "unknown", the caller retries
        return None
    finally:
        await admin.close()


async def committed_offsets(prefix: str) -> dict[str, dict[str, int]]:
    """Each group's committed offsets on the run's topics, as ``topic:partition`` (for the
    checker's facts; empty when Kafka did not answer in five tries)."""
    for _ in range(5):
        positions = await group_positions(prefix)
        if positions is not None:
            return {
                group: {f"{tp.topic}:{tp.partition}": offset for tp, offset in offsets.items()}
                for group, offsets in positions[0].items()
            }
        await asyncio.sleep(2)
    return {}
