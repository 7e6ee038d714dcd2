"""The walking skeleton end to end: 10,000 accounts through every service as its own process.

The ledger imports the portfolio over REST (-> accounts.v1), the scheduler plans a friendly
reminder per channel, the gate vets each step, the sms and email workers send through the
Twilio and SendGrid SDKs to the provider sandbox, the sandbox's signed callbacks come back,
and the ledger records every status. The clock runs at wall speed from an instant lawful
in every US zone, so no step is deferred and latencies are real.

Figures:
- steps/s from the first plan to the ledger holding a delivery status for every approved
  step (polled every 0.2 s), and the same to the last final status (delivered, bounced...);
- per step, plan -> provider-accepted and plan -> final status, from the Kafka record
  timestamps of outreach.planned.v1 and delivery.v1 (both stamped by their producers);
- the raw bus in the same run: one aiokafka producer and one consumer, the same count of
  1 KB records produced and consumed concurrently, msgs/s and produce -> consume latency,
  and the ratios of the pipeline to it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import auth_headers
from dunning_testkit.stack import REPO, pipeline_env

from bench.common import KAFKA, delete_topics, fresh_topic, peak_rss_mb, percentiles_ms, report

ACCOUNTS = int(os.environ.get("BENCH_PIPELINE_ACCOUNTS", "10000"))
TRICKLE = int(os.environ.get("BENCH_PIPELINE_TRICKLE", "60"))
TRICKLE_BATCH = 5
TIMEOUT_S = float(os.environ.get("BENCH_PIPELINE_TIMEOUT_S", "900"))
# Tuesday 3 March 2026, 19:00 UTC: 14:00 in New York, 09:00 in Honolulu, 10:00 in Anchorage.
CLOCK_START = "2026-03-03T19:00:00+00:00"
DATABASE = "dunning_bench_pipeline"
REDIS_URL = "redis://127.0.0.1:16379/5"
LEDGER = "http://127.0.0.1:8001"


@dataclass
class Trail:
    """Kafka timestamps (ms) seen per step."""

    planned: dict[str, int] = field(default_factory=dict)
    approved: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    final: dict[str, int] = field(default_factory=dict)
    final_status: dict[str, str] = field(default_factory=dict)
    account_of: dict[str, str] = field(default_factory=dict)


def _services(action: str, env: dict[str, str]) -> None:
    subprocess.run(["bash", "deploy/local/services.sh", action], check=True, cwd=REPO, env=env)


async def follow(prefix: str, trail: Trail, stop: asyncio.Event) -> None:
    """Record when each step was planned, accepted by its provider, and finally settled."""
    consumer = AIOKafkaConsumer(
        f"{prefix}outreach.planned.v1", f"{prefix}delivery.v1",
        f"{prefix}outreach.approved.sms.v1", f"{prefix}outreach.approved.email.v1",
        bootstrap_servers=KAFKA, auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batches.items():
                planned = tp.topic.endswith("outreach.planned.v1")
                approved = ".approved." in tp.topic
                for record in records:
                    data: dict[str, Any] = orjson.loads(record.value)
                    if planned or approved:
                        seen = trail.planned if planned else trail.approved
                        seen.setdefault(data["step"]["step_id"], record.timestamp)
                        trail.account_of[data["step"]["step_id"]] = data["account_id"]
                        continue
                    step, status = data["step_id"], data["status"]
                    if status == "accepted":
                        trail.accepted.setdefault(step, record.timestamp)
                    elif status != "sent" and step not in trail.final:
                        trail.final[step] = record.timestamp
                        trail.final_status[step] = status
    finally:
        await consumer.stop()


Counts = tuple[int, int, int, int]
LEDGER_DSN = f"postgresql://dunning:dunning@127.0.0.1:15432/{DATABASE}"


async def ledger_counts(conn: asyncpg.Connection) -> Counts:
    row = await conn.fetchrow(
        """SELECT count(*) AS steps,
                  count(*) FILTER (WHERE decision = 'allow') AS allowed,
                  count(*) FILTER (WHERE delivery_status IS NOT NULL) AS with_status,
                  count(*) FILTER (WHERE delivery_status NOT IN ('accepted', 'sent')) AS final
           FROM ledger.communication_log"""
    )
    assert row is not None
    return int(row["steps"]), int(row["allowed"]), int(row["with_status"]), int(row["final"])


async def ledger_baseline() -> Counts:
    conn = await asyncpg.connect(LEDGER_DSN)
    try:
        return await ledger_counts(conn)
    finally:
        await conn.close()


async def watch_ledger(before: Counts, expected_steps: int) -> dict[str, float | int]:
    """Poll the ledger's log until every approved step has a status and then a final one.

    Counts are of the steps beyond those ``before``."""
    conn = await asyncpg.connect(LEDGER_DSN)
    try:
        started = time.time()
        all_status_at = all_final_at = 0.0
        last_change, last = time.time(), (-1, -1, -1, -1)
        while time.time() - started < TIMEOUT_S:
            now_counts = await ledger_counts(conn)
            counts = (
                now_counts[0] - before[0],
                now_counts[1] - before[1],
                now_counts[2] - before[2],
                now_counts[3] - before[3],
            )
            now = time.time()
            if counts != last:
                last, last_change = counts, now
            steps, allowed, with_status, final = counts
            decided = steps >= expected_steps
            if decided and allowed and with_status >= allowed and not all_status_at:
                all_status_at = now
            if decided and allowed and final >= allowed:
                all_final_at = now
                break
            if all_status_at and now - last_change > 30:
                break  # some statuses never turn final (the sandbox leaves none so, but be safe)
            await asyncio.sleep(0.2)
        steps, allowed, with_status, final = last
        return {
            "steps": steps,
            "allowed": allowed,
            "with_status": with_status,
            "final": final,
            "all_status_at": all_status_at,
            "all_final_at": all_final_at or last_change,
        }
    finally:
        await conn.close()


async def raw_bus(count: int) -> dict[str, float]:
    """One producer and one consumer at once: msgs/s and produce -> consume latency."""
    topic = await fresh_topic()
    pad = "x" * 960
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest", enable_auto_commit=False,
        group_id=f"{topic}-raw",
    )  # fmt: skip
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024
    )
    await consumer.start()
    await producer.start()
    latencies: list[float] = []

    async def consume() -> None:
        while len(latencies) < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            now = time.time()
            for records in batches.values():
                latencies.extend(now - orjson.loads(r.value)["t"] for r in records)

    try:
        await asyncio.sleep(1)  # the consumer holds its partitions
        started = time.perf_counter()
        reader = asyncio.create_task(consume())
        futures = []
        for n in range(count):
            value = orjson.dumps({"account_id": f"ACC-{n:06d}", "t": time.time(), "pad": pad})
            futures.append(await producer.send(topic, value=value, key=f"ACC-{n}".encode()))
        await asyncio.gather(*futures)
        await asyncio.wait_for(reader, 120)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
        await consumer.stop()
        await delete_topics([topic])
    return {"msgs_per_s": count / elapsed, **percentiles_ms(latencies)}


def _service_groups(state_dir: Path) -> dict[int, str]:
    return {int(f.read_text().strip()): f.stem for f in (state_dir / "pids").glob("*.pid")}


def _group_processes(state_dir: Path) -> list[tuple[str, Path, list[str]]]:
    """(service, /proc/<pid>, stat fields after the command name) of every service process."""
    groups = _service_groups(state_dir)
    found = []
    for proc in Path("/proc").iterdir():
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) in groups:
                found.append((groups[int(fields[2])], proc, fields))
        except (OSError, ValueError, IndexError):
            continue
    return found


def services_cpu_s(state_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system) each service's processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for name, _, fields in _group_processes(state_dir):
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def services_peak_rss_mb(state_dir: Path) -> dict[str, float]:
    """Each service's peak RSS (VmHWM) so far: the largest process in its process group."""
    peaks: dict[str, float] = {}
    for name, proc, _ in _group_processes(state_dir):
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = max(peaks.get(name, 0.0), int(line.split()[1]) / 1024)
    return {f"{name}_peak_rss_mb": round(mb, 1) for name, mb in sorted(peaks.items())}


async def import_rows(http: httpx.AsyncClient, rows: list[dict[str, str]]) -> float:
    started = time.time()
    response = await http.post(
        f"{LEDGER}/v1/accounts/import",
        content=to_csv(rows).encode(),
        headers={"content-type": "text/csv"},
    )
    response.raise_for_status()
    return time.time() - started


async def trickle(http: httpx.AsyncClient, rows: list[dict[str, str]], trail: Trail) -> None:
    """A few accounts at a time, so each step meets an idle pipeline."""
    for n in range(0, len(rows), TRICKLE_BATCH):
        await import_rows(http, rows[n : n + TRICKLE_BATCH])
        await asyncio.sleep(1)
    accounts = {r["account_id"] for r in rows}
    deadline = time.time() + 60
    while time.time() < deadline:
        steps = [s for s, a in trail.account_of.items() if a in accounts]
        if len(steps) >= 2 * len(rows) and all(s in trail.final for s in steps):
            return
        await asyncio.sleep(0.2)


def percentiles_of(
    name: str, start: dict[str, int], end: dict[str, int], steps: set[str]
) -> dict[str, float]:
    samples = [(end[s] - start[s]) / 1000 for s in steps if s in end and s in start]
    return {f"{name}_{k}": v for k, v in percentiles_ms(samples).items()}


async def main() -> None:
    prefix = f"benchp{int(time.time())}."
    expected_steps = 2 * ACCOUNTS  # a friendly reminder per channel
    bus = await raw_bus(expected_steps)
    print(f"raw bus: {bus['msgs_per_s']:.0f} msgs/s, p50 {bus['p50_ms']} ms", flush=True)

    env = pipeline_env(
        prefix, DATABASE, REDIS_URL, clock_start=CLOCK_START, clock_speed=1.0,
        clock_epoch=time.time(), key_name="bench-sendgrid.pem",
    )  # fmt: skip
    env["DUNNING_LOG_JSON"] = "true"
    _services("stop", env)
    _services("start", env)
    state_dir = Path(env["DUNNING_STATE_DIR"])
    rows = sample_rows(ACCOUNTS + TRICKLE)
    burst_rows, trickle_rows = rows[:ACCOUNTS], rows[ACCOUNTS:]
    trail, stop = Trail(), asyncio.Event()
    follower = asyncio.create_task(follow(prefix, trail, stop))
    try:
        async with httpx.AsyncClient(timeout=300, headers=auth_headers()) as http:
            await trickle(http, trickle_rows, trail)
            print(f"trickle of {TRICKLE} accounts done", flush=True)
            cpu_before = services_cpu_s(state_dir)
            baseline = await ledger_baseline()
            import_s = await import_rows(http, burst_rows)
        print(f"imported {ACCOUNTS} accounts in {import_s:.1f} s", flush=True)
        ledger = await watch_ledger(baseline, expected_steps)
        await asyncio.sleep(1)  # the follower catches the last records
        memory = services_peak_rss_mb(state_dir)
        cpu_after = services_cpu_s(state_dir)
    finally:
        stop.set()
        await follower
        _services("stop", env)

    trickle_accounts = {r["account_id"] for r in trickle_rows}
    idle = {s for s, a in trail.account_of.items() if a in trickle_accounts}
    burst = set(trail.planned) - idle
    first_plan = min(trail.planned[s] for s in burst) / 1000
    last_plan = max(trail.planned[s] for s in burst) / 1000
    span_status = float(ledger["all_status_at"]) - first_plan
    span_final = float(ledger["all_final_at"]) - first_plan
    statuses: dict[str, int] = {}
    for step in burst:
        if step in trail.final_status:
            statuses[trail.final_status[step]] = statuses.get(trail.final_status[step], 0) + 1
    steps_per_s = int(ledger["with_status"]) / span_status if span_status > 0 else 0.0
    accepted = percentiles_of("plan_to_accepted", trail.planned, trail.accepted, burst)
    idle_accepted = percentiles_of("idle_plan_to_accepted", trail.planned, trail.accepted, idle)
    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in sorted(cpu_after)}
    figures: dict[str, Any] = {
        "accounts": ACCOUNTS,
        "import_s": round(import_s, 2),
        "steps_planned": len(burst),
        "steps_allowed_in_ledger": ledger["allowed"],
        "steps_with_status_in_ledger": ledger["with_status"],
        "steps_final_in_ledger": ledger["final"],
        "steps_accepted_by_provider": len(burst & set(trail.accepted)),
        **{f"final_{k}": v for k, v in sorted(statuses.items())},
        "planning_span_s": round(last_plan - first_plan, 2),
        "plan_to_ledger_status_span_s": round(span_status, 2),
        "plan_to_ledger_final_span_s": round(span_final, 2),
        "pipeline_steps_per_s": round(steps_per_s, 1),
        "pipeline_final_steps_per_s": round(int(ledger["final"]) / span_final, 1),
        **percentiles_of("plan_to_approved", trail.planned, trail.approved, burst),
        **accepted,
        **percentiles_of("plan_to_final", trail.planned, trail.final, burst),
        "idle_steps": len(idle),
        **idle_accepted,
        "raw_bus_msgs_per_s": round(bus["msgs_per_s"]),
        "raw_bus_p50_ms": bus["p50_ms"],
        "raw_bus_p99_ms": bus["p99_ms"],
        "ratio_raw_bus_over_pipeline_throughput": round(bus["msgs_per_s"] / steps_per_s, 1),
        "ratio_pipeline_over_raw_bus_p50_latency": round(
            accepted["plan_to_accepted_p50_ms"] / bus["p50_ms"], 1
        ),
        "ratio_idle_pipeline_over_raw_bus_p50_latency": round(
            idle_accepted["idle_plan_to_accepted_p50_ms"] / bus["p50_ms"], 1
        ),
        **{f"{name}_cpu_s": round(used, 1) for name, used in cpu.items()},
        "all_services_cpu_ms_per_step": round(1000 * sum(cpu.values()) / max(len(burst), 1), 2),
        **memory,
        "bench_driver_peak_rss_mb": round(peak_rss_mb(), 1),
    }
    report("pipeline", figures)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
