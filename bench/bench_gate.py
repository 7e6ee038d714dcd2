"""The compliance gate: pure rule evaluation per step, and decisions/s through the running gate.

1. Pure: ``evaluate`` on a prepared request (the rule engine alone), and the gate's whole
   per-step path (state → request → validation → rules → decision event), for an account
   seen before and for a new one (its numbers parsed by ``phonenumbers`` for the first
   time, as every account of the running benchmark is). Warmed up first: the first
   evaluation imports the holiday calendars (~0.4 s), which is start-up, not per step.
2. Running: N accounts and N planned steps preloaded on Kafka; the gate pipeline (Kafka in,
   Kafka out, Redis state) drains them with 1 and then 2 replicas in one consumer group
   (separate processes, on the event loop uvicorn would pick; each waits until every
   replica holds its partitions, so the group's first rebalance is not in the figures);
   decisions/s from the first to the last decision, the CPU the replicas spent per
   decision (robust to whatever else runs on the machine), and whether both runs decided
   every step the same. The raw bus baseline (consume + produce the same records, no
   work) runs alongside. Use N >= 20000: a replica decides up to 2000 steps per batch.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer
from dunning_core.contracts import (
    StepDecided,
    decode,
    wrap,
)
from dunning_core.contracts.topics import ALL_TOPICS, dlq
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.bootstrap import settle_heap
from dunning_gate.domain.evaluate import evaluate
from dunning_gate.domain.mapping import request_dict
from dunning_gate.domain.parsing import build_request
from dunning_gate.domain.request import EvaluationRequest
from dunning_gate.domain.state import AccountState, apply_account
from dunning_gate.handlers import GatePipeline
from dunning_gate.policy.loader import default_policy
from dunning_gate.service import GateDecider
from dunning_testkit.stack import create_topics
from redis.asyncio import Redis

from bench.common import KAFKA, delete_topics, peak_rss_mb, report
from bench.gate_inputs import NOW, account, planned

STEPS = int(os.environ.get("BENCH_GATE_STEPS", "20000"))
PARTITIONS = 6
REDIS_URL = "redis://127.0.0.1:16379/5"


def _best_us(step: Callable[[], object], n: int = 2000, rounds: int = 5) -> float:
    """Best of a few rounds, in µs per call (other processes share these 2 cores)."""
    for _ in range(200):
        step()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            step()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def pure_figures() -> dict[str, float]:
    policy = default_policy()
    decider = GateDecider(policy)
    figures: dict[str, float] = {}
    for n, label in ((1, "ca"), (0, "ny")):
        state = AccountState(account_id=f"A{n:06d}")
        apply_account(state, account(n))
        plan = planned(n)
        request = build_request(request_dict(plan, state, NOW, decider.zones_for(state)), policy)
        assert isinstance(request, EvaluationRequest), request
        figures[f"pure_rules_us_per_step_{label}"] = round(
            _best_us(partial(evaluate, request, policy)), 1
        )
        figures[f"gate_path_us_per_step_{label}"] = round(
            _best_us(partial(decider, plan, "e", state, NOW)), 1
        )
    figures["pure_rules_us_per_step"] = max(
        figures["pure_rules_us_per_step_ca"], figures["pure_rules_us_per_step_ny"]
    )
    figures["gate_path_us_per_step"] = max(
        figures["gate_path_us_per_step_ca"], figures["gate_path_us_per_step_ny"]
    )
    # New accounts: numbers never seen by this process (no cached parse, zones, validity).
    fresh = []
    for n in range(100_000, 103_000):
        state = AccountState(account_id=f"A{n:06d}")
        apply_account(state, account(n))
        fresh.append((planned(n), state))
    start = time.perf_counter()
    for plan, state in fresh:
        decider(plan, "e", state, NOW)
    figures["gate_path_us_per_step_new_account"] = round(
        (time.perf_counter() - start) / len(fresh) * 1e6, 1
    )
    return figures


async def preload(prefix: str) -> None:
    await create_topics(prefix, partitions=PARTITIONS)
    await publish_inputs(prefix)


async def publish_inputs(prefix: str) -> None:
    """Publish the accounts and their planned steps (the same every time) under ``prefix``."""
    producer = EventProducer(KAFKA, "bench", topic_prefix=prefix)
    await producer.start()
    try:
        await producer.publish(wrap(account(n), "ledger") for n in range(STEPS))
        await producer.publish(wrap(planned(n), "scheduler") for n in range(STEPS))
    finally:
        await producer.stop()


def replica(
    prefix: str, group: str, redis_db: int, share: int, joined: Any, done: Any, report_to: Any
) -> None:
    """One gate replica in its own process, until `done` is set; reports its figures."""
    run = _replica(prefix, group, redis_db, share, joined, done, report_to)
    try:
        import uvloop  # what uvicorn runs the gate on when it is installed
    except ImportError:
        asyncio.run(run)
    else:
        uvloop.run(run)


async def started_gate(
    prefix: str, group: str, store: RedisStateStore, producer: EventProducer
) -> GatePipeline:
    """A gate replica as the service runs it (heap settled after start-up), started."""
    pipeline = GatePipeline(
        bootstrap=KAFKA,
        group_id=group,
        store=store,
        producer=producer,
        decide=GateDecider(default_policy()),
        clock=FixedClock(NOW),
        topic_prefix=prefix,
        max_records=2000,
    )
    await pipeline.start()
    settle_heap()
    return pipeline


async def _replica(
    prefix: str, group: str, redis_db: int, share: int, joined: Any, done: Any, report_to: Any
) -> None:
    redis = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + f"/{redis_db}")
    producer = EventProducer(KAFKA, "gate", topic_prefix=prefix)
    await producer.start()
    pipeline = await started_gate(prefix, group, RedisStateStore(redis, prefix=group), producer)
    # Every replica holds its share of the partitions before any starts: the figures are
    # those of the group at work, not of its first rebalance.
    await _until(lambda: len(pipeline.health()["assigned_partitions"]) == share)
    await asyncio.to_thread(joined.wait, 120)
    task = asyncio.create_task(pipeline.run())
    # CPU time and decisions of this process from its first batch of decisions to its last.
    first: tuple[float, int] | None = None
    last = (0.0, 0)
    while not done.is_set():
        await asyncio.sleep(0.02)
        if pipeline.stats.decided != last[1]:
            last = (time.process_time(), pipeline.stats.decided)
            first = first or last
    pipeline.request_stop()
    await task
    await producer.stop()
    await redis.aclose()
    report_to.put(
        {
            "decided": pipeline.stats.decided,
            "cpu_s": last[0] - first[0] if first else 0.0,
            "decided_in_cpu_s": last[1] - first[1] if first else 0,
            "rebuilds": pipeline.stats.rebuilds,
            "retries": pipeline.stats.retries,
        }
    )


async def count_decisions(
    topic: str, expected: int, deadline_s: float
) -> tuple[dict[str, str], list[float]]:
    """Every step's decision (verdict and rule ids) and when each was published."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    decisions: dict[str, str] = {}
    stamps: dict[str, float] = {}
    end = time.perf_counter() + deadline_s
    try:
        while len(decisions) < expected and time.perf_counter() < end:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for r in records:
                    event = decode(r.key, r.value, r.headers).data
                    assert isinstance(event, StepDecided)
                    decisions[event.step_id] = (
                        event.decision.value
                        + ":"
                        + ",".join(sorted(f.rule_id for f in event.findings))
                    )
                    # A replay (after a rebalance) announces the same decision again.
                    stamps.setdefault(event.step_id, r.timestamp / 1000)
    finally:
        await consumer.stop()
    return decisions, sorted(stamps.values())


async def running(replicas: int, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
    group = f"{prefix}gate{replicas}."
    redis = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + f"/{5 + replicas}")
    await redis.flushdb()
    await redis.aclose()
    out_prefix = f"{prefix}r{replicas}."
    # Each run decides into its own copy of the decision topic: its own topic prefix.
    await create_topics(out_prefix, partitions=PARTITIONS)
    await publish_inputs(out_prefix)
    ctx = multiprocessing.get_context("spawn")
    joined = ctx.Barrier(replicas)
    done = ctx.Event()
    reports = ctx.Queue()
    share = PARTITIONS // replicas
    procs = [
        ctx.Process(
            target=replica,
            args=(out_prefix, group, 5 + replicas, share, joined, done, reports),
        )
        for _ in range(replicas)
    ]
    for p in procs:
        p.start()
    decisions, stamps = await count_decisions(out_prefix + "outreach.decisions.v1", STEPS, 240)
    done.set()
    per_replica = [await asyncio.to_thread(reports.get, True, 60) for _ in procs]
    for p in procs:
        p.join(30)
        if p.is_alive():
            p.terminate()
    await delete_topics(
        [out_prefix + t for t in ALL_TOPICS] + [out_prefix + dlq(t) for t in ALL_TOPICS]
    )
    rate = len(stamps) / max(stamps[-1] - stamps[0], 1e-6) if stamps else 0.0
    cpu = sum(r["cpu_s"] for r in per_replica)
    timed = sum(r["decided_in_cpu_s"] for r in per_replica)
    return {
        "decisions_per_s": round(rate),
        "cpu_us_per_decision": round(cpu / max(timed, 1) * 1e6),
        "decisions_per_replica": sorted(r["decided"] for r in per_replica),
        "rebuilds": sum(r["rebuilds"] for r in per_replica),
        "retried_batches": sum(r["retries"] for r in per_replica),
    }, decisions


async def raw_bus_baseline(prefix: str) -> float:
    """Consume the planned steps and produce one record each, no decoding: the ceiling."""
    consumer = AIOKafkaConsumer(
        prefix + "outreach.planned.v1", bootstrap_servers=KAFKA, auto_offset_reset="earliest",
        group_id=prefix + "raw",
    )  # fmt: skip
    producer = EventProducer(KAFKA, "raw", topic_prefix=prefix)
    await consumer.start()
    await producer.start()
    seen = 0
    start = time.perf_counter()
    try:
        while seen < STEPS:
            futures = []
            for records in (await consumer.getmany(timeout_ms=1000, max_records=2000)).values():
                for r in records:
                    futures.append(
                        await producer.send_raw(
                            prefix + "outreach.decisions.v1", r.key, r.value, r.headers
                        )
                    )
                seen += len(records)
            if futures:
                await asyncio.gather(*futures)
    finally:
        await consumer.stop()
        await producer.stop()
    return seen / (time.perf_counter() - start)


async def main() -> None:
    figures: dict[str, Any] = {"steps": STEPS}
    figures.update(pure_figures())
    prefix = f"bgate{int(time.time())}."
    await preload(prefix)
    figures["raw_bus_consume_produce_msgs_per_s"] = round(await raw_bus_baseline(prefix))
    one_run, one = await running(1, prefix)
    two_run, two = await running(2, prefix)
    for label, run in (("1_replica", one_run), ("2_replicas", two_run)):
        for key, value in run.items():
            figures[f"gate_{label}_{key}"] = value
    one_rate = one_run["decisions_per_s"]
    figures["decided_1_replica"] = len(one)
    figures["decided_2_replicas"] = len(two)
    figures["same_decisions_1_vs_2_replicas"] = one == two
    figures["allowed_share"] = round(
        sum(1 for v in one.values() if v.startswith("allow")) / max(len(one), 1), 3
    )
    figures["ratio_gate_1_replica_over_raw_bus"] = round(
        one_rate / figures["raw_bus_consume_produce_msgs_per_s"], 3
    )
    figures["target_decisions_per_s"] = 20000
    figures["peak_rss_mb_driver"] = round(peak_rss_mb(), 1)
    await delete_topics([prefix + t for t in ALL_TOPICS] + [prefix + dlq(t) for t in ALL_TOPICS])
    report("gate", figures)


def _cpu_seconds_of(word: str) -> float:
    """CPU time of the local processes whose command line holds `word` (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                if word.encode() not in f.read():
                    continue
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def _until(check: Callable[[], bool]) -> None:
    while True:
        if check():
            return
        await asyncio.sleep(0.01)


async def profile_one_replica() -> None:
    """One replica in this process, for a profiler to attach to (see docs/perf/gate.md):
    CPU per decision of the gate, the broker and Redis while it decides."""
    prefix = f"pgate{int(time.time())}."
    await preload(prefix)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    producer = EventProducer(KAFKA, "gate", topic_prefix=prefix)
    await producer.start()
    state = RedisStateStore(redis, prefix=prefix)
    pipeline = await started_gate(prefix, prefix + "gate", state, producer)
    task = asyncio.create_task(pipeline.run())
    await _until(lambda: pipeline.stats.decided > 0)
    start, cpu = time.perf_counter(), time.process_time()
    broker, store = _cpu_seconds_of("kafka.Kafka"), _cpu_seconds_of("redis-server")
    first = pipeline.stats.decided
    await _until(lambda: pipeline.stats.decided >= STEPS)
    decided = STEPS - first
    figures = {
        "decisions_per_s": round(decided / (time.perf_counter() - start)),
        "gate_cpu_us_per_decision": round((time.process_time() - cpu) / decided * 1e6),
        "broker_cpu_us_per_decision": round(
            (_cpu_seconds_of("kafka.Kafka") - broker) / decided * 1e6
        ),
        "redis_cpu_us_per_decision": round(
            (_cpu_seconds_of("redis-server") - store) / decided * 1e6
        ),
    }
    pipeline.request_stop()
    await task
    await producer.stop()
    await redis.aclose()
    await delete_topics([prefix + t for t in ALL_TOPICS] + [prefix + dlq(t) for t in ALL_TOPICS])
    for key, value in figures.items():
        print(f"  {key:32s} {value}")


if __name__ == "__main__":
    import sys

    asyncio.run(profile_one_replica() if sys.argv[1:] == ["profile"] else main())
