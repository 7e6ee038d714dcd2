# /// script
# requires-python = ">=3.11"
# dependencies = ["aiokafka==0.14.0"]
# ///
"""Admin of the local Kafka broker: readiness, topics from topics.conf, a metadata listing.

Run by stack.sh as a standalone uv script, so it needs nothing from the workspace:

    uv run --script deploy/local/kafka_admin.py ensure --topics deploy/local/topics.conf
    uv run --script deploy/local/kafka_admin.py describe

`ensure` waits until a metadata request succeeds, creates the missing topics, grows partition
counts that are too small and sets drifted topic configs, all in one process (one JVM start
per topic with Kafka's own TopicCommand would cost more than the broker's start itself).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError

TOPIC_ALREADY_EXISTS = 36
RETRIABLE_CREATE_ERRORS = {5, 7, 8, 41}  # leader/broker not available, timeout, not controller
MANAGED_CONFIGS = ("retention.ms", "cleanup.policy")


@dataclass(frozen=True)
class TopicSpec:
    """One line of topics.conf."""

    name: str
    partitions: int
    retention_ms: int
    cleanup_policy: str

    def configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}


def parse_topics(text: str) -> list[TopicSpec]:
    """Parses `name partitions retention_ms cleanup_policy` lines; `#` starts a comment."""
    specs: list[TopicSpec] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 4:
            raise ValueError(f"line {number}: expected 4 fields, got {len(fields)}: {raw!r}")
        name, partitions, retention_ms, policy = fields
        specs.append(TopicSpec(name, int(partitions), int(retention_ms), policy))
    names = [s.name for s in specs]
    if len(names) != len(set(names)):
        raise ValueError("a topic is listed twice")
    return specs


async def connect(bootstrap: str, timeout_s: float) -> AIOKafkaAdminClient:
    """Returns a started admin client once a metadata request has succeeded."""
    deadline = time.monotonic() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            if cluster.get("brokers"):
                return admin
        except (KafkaConnectionError, KafkaError, OSError):
            pass
        await admin.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no metadata from {bootstrap} within {timeout_s:.0f}s")
        await asyncio.sleep(0.25)


async def partition_counts(admin: AIOKafkaAdminClient) -> dict[str, int]:
    topics: list[dict[str, Any]] = await admin.describe_topics()
    return {t["topic"]: len(t["partitions"]) for t in topics if not t["topic"].startswith("__")}


async def topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, n, dict.fromkeys(MANAGED_CONFIGS)) for n in names
    ]
    found: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.resources:
            # (error_code, error_message, resource_type, resource_name, config_entries, ...)
            found[resource[3]] = {entry[0]: entry[1] for entry in resource[4]}
    return found


async def create_missing(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], replication_factor: int = 1
) -> None:
    pending = {s.name: s for s in specs}
    for _ in range(20):
        if not pending:
            return
        response = await admin.create_topics(
            [
                NewTopic(s.name, s.partitions, replication_factor, topic_configs=s.configs())
                for s in pending.values()
            ]
        )
        retry: dict[str, TopicSpec] = {}
        for error in response.topic_errors:
            name, code = error[0], error[1]
            message = error[2] if len(error) > 2 else ""
            if code in (0, TOPIC_ALREADY_EXISTS):
                continue
            if code in RETRIABLE_CREATE_ERRORS:
                retry[name] = pending[name]
                continue
            raise RuntimeError(f"creating {name} failed: error {code} {message}")
        pending = retry
        if pending:
            await asyncio.sleep(0.5)
    raise RuntimeError(f"gave up creating {sorted(pending)}")


async def warm_group_coordinator(admin: AIOKafkaAdminClient, timeout_s: float) -> None:
    """Has the broker create __consumer_offsets now, so the first consumer group of a test
    does not wait for it (and log GroupCoordinatorNotAvailable on the way)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await admin.find_coordinator("dunning-local-stack")
            return
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def ensure(
    bootstrap: str, specs: list[TopicSpec], timeout_s: float, replication_factor: int = 1
) -> list[str]:
    """Brings the broker's topics in line with specs; returns what it changed.

    The replication factor applies to the topics it creates (3 on the chaos cluster)."""
    admin = await connect(bootstrap, timeout_s)
    changes: list[str] = []
    try:
        existing = await partition_counts(admin)
        missing = [s for s in specs if s.name not in existing]
        await create_missing(admin, missing, replication_factor)
        changes += [f"created {s.name}" for s in missing]

        grow = {
            s.name: NewPartitions(s.partitions)
            for s in specs
            if s.name in existing and existing[s.name] < s.partitions
        }
        if grow:
            await admin.create_partitions(grow)
            changes += [f"grew {name} to {p.total_count} partitions" for name, p in grow.items()]
        for s in specs:
            if s.name in existing and existing[s.name] > s.partitions:
                print(
                    f"warning: {s.name} has {existing[s.name]} partitions, more than {s.partitions}"
                )

        present = [s for s in specs if s.name in existing]
        current = await topic_configs(admin, [s.name for s in present])
        drifted = [s for s in present if current.get(s.name) != s.configs()]
        if drifted:
            await admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, s.name, s.configs()) for s in drifted]
            )
            changes += [f"reconfigured {s.name}" for s in drifted]

        await warm_group_coordinator(admin, timeout_s)
        final = await partition_counts(admin)
        absent = [s.name for s in specs if final.get(s.name, 0) < s.partitions]
        if absent:
            raise RuntimeError(f"topics still missing after ensure: {absent}")
    finally:
        await admin.close()
    return changes


async def describe(bootstrap: str, timeout_s: float, include_internal: bool) -> str:
    """A metadata listing: broker, controller, and every topic's partitions and configs."""
    admin = await connect(bootstrap, timeout_s)
    try:
        cluster = await admin.describe_cluster()
        topics: list[dict[str, Any]] = await admin.describe_topics()
        shown = sorted(
            (t for t in topics if include_internal or not t["topic"].startswith("__")),
            key=lambda t: str(t["topic"]),
        )
        configs = await topic_configs(admin, [t["topic"] for t in shown])
    finally:
        await admin.close()
    brokers = ", ".join(f"{b['node_id']}@{b['host']}:{b['port']}" for b in cluster["brokers"])
    lines = [
        f"cluster {cluster.get('cluster_id')} controller {cluster.get('controller_id')} "
        f"brokers [{brokers}]",
    ]
    width = max([len("topic"), *(len(str(t["topic"])) for t in shown)])
    lines.append(
        f"{'topic':{width}}  {'parts':>5}  {'leaders':8} {'isr':8} {'retention.ms':>13}  cleanup"
    )
    for t in shown:
        parts = sorted(t["partitions"], key=lambda p: int(p["partition"]))
        leaders = ",".join(sorted({str(p["leader"]) for p in parts}))
        isr = ",".join(sorted({str(n) for p in parts for n in p["isr"]}))
        conf = configs.get(t["topic"], {})
        lines.append(
            f"{t['topic']:{width}}  {len(parts):>5}  {leaders:8} {isr:8} "
            f"{conf.get('retention.ms', '?'):>13}  {conf.get('cleanup.policy', '?')}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["ensure", "describe", "wait"])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--topics", type=Path, default=Path(__file__).with_name("topics.conf"))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for metadata")
    parser.add_argument("--internal", action="store_true", help="describe: list __ topics too")
    parser.add_argument("--verbose", action="store_true", help="ensure: print what changed")
    parser.add_argument("--replication-factor", type=int, default=1, help="ensure: of new topics")
    parser.add_argument("--prefix", default="", help="ensure: prepended to every topic name")
    args = parser.parse_args(argv)
    # aiokafka logs every refused connection while the broker boots; failures surface below.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        if args.command == "wait":
            asyncio.run(_wait(args.bootstrap, args.timeout))
        elif args.command == "describe":
            print(asyncio.run(describe(args.bootstrap, args.timeout, args.internal)))
        else:
            specs = [
                TopicSpec(args.prefix + s.name, s.partitions, s.retention_ms, s.cleanup_policy)
                for s in parse_topics(args.topics.read_text())
            ]
            changes = asyncio.run(
                ensure(args.bootstrap, specs, args.timeout, args.replication_factor)
            )
            if args.verbose:
                print("\n".join(changes) if changes else "topics up to date")
    except (TimeoutError, RuntimeError, ValueError, KafkaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


async def _wait(bootstrap: str, timeout_s: float) -> None:
    admin = await connect(bootstrap, timeout_s)
    await admin.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
