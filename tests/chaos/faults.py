"""The faults the chaos driver injects, each recorded with its time and seconds to recover.

Recovery is measured from the moment the fault is injected until every replica of every
service answers ``/health`` 200 again (and, for the stack's components, the component is back).
Poison events carry a unique nonce so the checker can find each one in its topic's DLQ.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from dunning_core.contracts.topics import ALL_TOPICS

from tests.chaos.fleet import BROKERS, KAFKA, Fleet, Replica, cluster

# Longer: counted as never recovered (recover_s null). A service starts in 10-60 s at the
# full runs' load average (15-25 on 2 cores); the ledger once took 63 s.
RECOVERY_TIMEOUT_S = 120.0


@dataclass
class FaultRecord:
    kind: str
    target: str
    at: float
    recover_s: float | None = None
    note: str = ""


@dataclass
class Poison:
    topic: str
    value: bytes
    what: str


@dataclass
class FaultLog:
    records: list[FaultRecord] = field(default_factory=list)
    poison: list[Poison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in self.records:
            found[r.kind] = found.get(r.kind, 0) + 1
        return found

    def recovery(self) -> dict[str, float | None]:
        """The longest recovery per kind; None when one never recovered."""
        found: dict[str, float | None] = {}
        for r in self.records:
            if r.kind in found and found[r.kind] is None:
                continue
            if r.recover_s is None:
                found[r.kind] = None
            else:
                found[r.kind] = max(r.recover_s, found.get(r.kind) or 0.0)
        return found


@dataclass(eq=False)
class Injector:
    """Injects one fault at a time (so its recovery is its own) against the run's fleet."""

    fleet: Fleet
    state_dir: Path
    prefix: str
    rng: random.Random
    log: FaultLog
    sandbox_faults: bool = field(init=False, default=False)
    fault_destinations: list[str] = field(init=False, default_factory=list)
    # every phone and address of the portfolio
    destinations: list[str] = field(init=False, default_factory=list)
    # per fault: the replicas healthy before
    watched: dict[int, list[Replica]] = field(init=False, default_factory=dict)

    def kinds(self) -> list[str]:
        kills = [f"kill_{name}" for name in self.fleet.replicas if name != "sandbox"]
        found = [*kills, "broker", "redis", "postgres", "replica_churn", "poison"]
        if self.sandbox_faults:
            found += ["provider_outage", "provider_429"]
        return found

    async def inject(self, kind: str) -> FaultRecord:
        # Recovery is judged on the replicas healthy now: one a former fault left broken
        # (a dead consumer loop behind a live process) is that fault's, not this one's.
        watched = await asyncio.to_thread(lambda: [r for r in self.fleet.all() if r.healthy()])
        record = FaultRecord(kind, "", time.time())
        self.watched[id(record)] = watched
        self.log.records.append(record)
        if kind.startswith("kill_"):
            await asyncio.to_thread(self._kill, kind.removeprefix("kill_"), record)
        elif kind == "broker":
            await asyncio.to_thread(self._broker, record)
        elif kind == "redis":
            await asyncio.to_thread(self._stack_restart, "redis-flush-restart", record)
        elif kind == "postgres":
            await asyncio.to_thread(self._stack_restart, "pg-restart", record)
        elif kind == "replica_churn":
            await asyncio.to_thread(self._churn, record)
        elif kind == "poison":
            await self._poison(record)
        elif kind in ("provider_outage", "provider_429"):
            await self._provider(kind, record)
        return record

    def _recover(self, record: FaultRecord, since: float | None = None) -> None:
        """Wait for the watched replicas; the seconds from ``since`` (the fault's start
        unless given) are the fault's recovery."""
        watched = self.watched.pop(id(record), self.fleet.all())
        waited = self.fleet.wait_healthy(watched, RECOVERY_TIMEOUT_S)
        started = record.at if since is None else since
        record.recover_s = None if waited is None else round(time.time() - started, 1)
        if waited is None:
            sick = [f"{r.name}: {r.health()}" for r in watched if not r.healthy()]
            record.note += f" never healthy again: {'; '.join(sick)}"[:1500]

    def _kill(self, service: str, record: FaultRecord) -> None:
        replica = self.rng.choice(self.fleet.replicas[service])
        record.target = replica.name
        replica.kill(signal.SIGKILL)
        time.sleep(self.rng.uniform(0.5, 4.0))  # a restart by the orchestrator takes a moment
        replica.start()
        self._recover(record)

    def _broker(self, record: FaultRecord) -> None:
        n = self.rng.randint(1, BROKERS)
        record.target = f"kafka{n}"
        cluster("kill-broker", str(n), state_dir=self.state_dir)
        time.sleep(self.rng.uniform(5.0, 15.0))
        done = cluster("start-broker", str(n), state_dir=self.state_dir, check=False)
        if done.returncode != 0:
            record.note = done.stderr[-300:]
        self._recover(record)

    def _stack_restart(self, command: str, record: FaultRecord) -> None:
        record.target = command
        down = self.rng.uniform(2.0, 20.0)
        done = cluster(command, f"{down:.1f}", state_dir=self.state_dir, check=False)
        record.note = f"down {down:.1f}s" + (f"; {done.stderr[-300:]}" if done.returncode else "")
        self._recover(record)

    def _churn(self, record: FaultRecord) -> None:
        """A replica leaves gracefully (SIGTERM), stays away a while, and joins again."""
        service = self.rng.choice([s for s in self.fleet.replicas if s != "sandbox"])
        replica = self.fleet.replicas[service][-1]
        record.target = replica.name
        replica.kill(signal.SIGTERM)
        time.sleep(self.rng.uniform(5.0, 20.0))
        replica.start()
        # Away on purpose until now: its recovery is its start, not its absence (the ninth
        # run's ledger-1 took 63 s to start at a load average of 18 and was counted as
        # never back, away 5-20 s more).
        self._recover(record, since=time.time())

    async def _poison(self, record: FaultRecord) -> None:
        """On every topic: garbage bytes, and an event that is valid JSON but no valid envelope."""
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
        await producer.start()
        try:
            for topic in ALL_TOPICS:
                nonce = uuid.uuid4().hex
                garbage = b"\xff\xfe poison " + nonce.encode() + bytes(range(0, 32))
                invalid = b'{"account_id": "POISON-' + nonce.encode() + b'", "step": 42}'
                headers = [
                    ("ce_id", nonce.encode()), ("ce_type", b"step.planned.v1"),
                    ("ce_source", b"chaos"), ("ce_specversion", b"1.0"),
                ]  # fmt: skip
                await producer.send_and_wait(self.prefix + topic, garbage, key=b"POISON")
                await producer.send_and_wait(
                    self.prefix + topic, invalid, key=b"POISON", headers=headers
                )
                self.log.poison.append(Poison(topic, garbage, "garbage bytes, no headers"))
                self.log.poison.append(Poison(topic, invalid, "invalid envelope"))
        finally:
            await producer.stop()
        record.target = f"{len(ALL_TOPICS)} topics"
        await asyncio.to_thread(self._recover, record)

    async def probe_sandbox(self, http: httpx.AsyncClient) -> None:
        sandbox = self.fleet.url("sandbox")
        response = await http.get(f"{sandbox}/_sandbox/faults")
        self.sandbox_faults = response.status_code == 200
        if not self.sandbox_faults:
            self.log.notes.append(
                "the provider sandbox has no fault control API (GET /_sandbox/faults "
                f"answered {response.status_code}): provider outages and 429 storms skipped"
            )

    async def standing_faults(self, http: httpx.AsyncClient, destinations: list[str]) -> None:
        """Forty destinations that always answer 429 or 500 (the issue's third defect)."""
        if not self.sandbox_faults:
            return
        self.fault_destinations = destinations[:40]
        await self._set(http, self.fault_destinations[:20], {"status": 429, "retry_after_s": 2})
        await self._set(http, self.fault_destinations[20:], {"status": 500})

    async def _set(self, http: httpx.AsyncClient, destinations: list[str], fault: Any) -> None:
        if destinations:
            url = f"{self.fleet.url('sandbox')}/_sandbox/faults"
            (await http.post(url, json={"destinations": destinations, **fault})).raise_for_status()

    async def _provider(self, kind: str, record: FaultRecord) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            picked = self.rng.sample(self.destinations, min(len(self.destinations), 2000))
            record.target = f"{len(picked)} destinations"
            if kind == "provider_429":
                await self._set(http, picked, {"status": 429, "retry_after_s": 1, "times": 3})
                await asyncio.sleep(self.rng.uniform(5.0, 15.0))
            else:
                await self._set(http, picked, {"status": 503})
                await asyncio.sleep(self.rng.uniform(5.0, 20.0))
            await http.delete(f"{self.fleet.url('sandbox')}/_sandbox/faults")
            await self.standing_faults(http, self.fault_destinations or self.destinations)
        record.recover_s = round(time.time() - record.at, 1)
