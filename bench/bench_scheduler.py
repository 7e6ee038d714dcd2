"""Scheduler figures: template render cost, and planning throughput on the real stack.

    uv run python -m bench.bench_scheduler [accounts] [planner workers]

Render: µs per rendered message (SMS, email) and per complete OutreachStep (render, hash,
model). Planning: accounts applied from AccountOpened events (reaction path, batches of
1000), then every case due at once and planned by the planner's use case in batches of 500
through PostgreSQL and Kafka (topics of its own), in steps per second.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from dataclasses import replace
from datetime import timedelta

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import Decision, StepPlanned
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_scheduler.adapters.database import make_engine, migrate
from dunning_scheduler.adapters.kafka_publisher import KafkaStepPublisher
from dunning_scheduler.adapters.models import steps as steps_table
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.adapters.repository import SqlCaseStore, step_from_row
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.planning import plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_scheduler.service import Scheduler, outreach_step
from dunning_testkit.scheduler import IDENTITY, NOW, account_opened, consumer, debt, decided
from dunning_testkit.stack import KAFKA, create_database, create_topics
from sqlalchemy import select

from bench.common import report


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def bench_render(repeat: int = 20_000) -> dict[str, float]:
    """µs per render (varied amounts and accounts, so no cache is flattered)."""
    renderer = Renderer(IDENTITY)
    policy = default_policy()
    figures: dict[str, float] = {}
    for locale in ("en_US", "es_US"):
        case = reactions.on_account(
            None, account_opened(consumer_=consumer(locale=locale)), policy, NOW
        )
        assert case is not None
        case = replace(case, contacted=True)
        assert case.consumer is not None
        for draft in plan_due(case, policy, NOW).drafts:
            inputs = [
                (replace(draft, account_id=f"A{i}"), debt(balance_minor=1_000 + i * 7))
                for i in range(repeat)
            ]
            started = time.perf_counter()
            for one, owed in inputs:
                renderer.render(one, case.consumer, owed)
            per = (time.perf_counter() - started) / repeat * 1e6
            figures[f"render_{draft.channel.value}_{locale}_us"] = round(per, 1)
            started = time.perf_counter()
            for _ in range(repeat):
                outreach_step(draft, renderer, case)
            per = (time.perf_counter() - started) / repeat * 1e6
            figures[f"outreach_step_{draft.channel.value}_{locale}_us"] = round(per, 1)
    return figures


async def bench_planning(accounts: int, workers: int) -> dict[str, float]:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await create_topics(prefix, partitions=6)
    url = await create_database(f"bench_scheduler_{uuid.uuid4().hex[:8]}")
    engine = make_engine(url, 10)
    await migrate(engine)
    clock = FixedClock(NOW)
    policy = default_policy()
    store = SqlCaseStore(engine, [s.key for s in policy.stages], clock)
    producer = EventProducer(KAFKA, "scheduler-bench", topic_prefix=prefix)
    await producer.start()
    scheduler = Scheduler(store, KafkaStepPublisher(producer), Renderer(IDENTITY), policy, clock)
    events = [
        wrap(
            account_opened(
                f"ACC-{n:07d}", consumer_=consumer(locale="es_US" if n % 6 == 0 else "en_US")
            ),
            "bench",
            time=NOW,
        )
        for n in range(accounts)
    ]
    started = time.perf_counter()
    for i in range(0, accounts, 1000):
        await scheduler.apply(events[i : i + 1000])
    applied_s = time.perf_counter() - started

    totals = {"steps": 0, "ticks": 0}

    async def worker() -> None:
        while True:
            result = await scheduler.plan_due(500)
            totals["steps"] += result.steps
            totals["ticks"] += 1
            if result.cases == 0:
                return

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(workers)))
    planned_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    steps, ticks = totals["steps"], totals["ticks"]

    # The reaction path at the gate's pace: one decision per planned step, in consumer-loop
    # batches of 1000 (every SMS deferred, so re-planned; every email allowed).
    planned = await _planned_steps(store)
    decisions = [
        wrap(
            decided(p, Decision.DEFER, not_before=NOW + timedelta(hours=14), rules=["hours.fdcpa"])
            if p.step.channel == Channel.SMS
            else decided(p, Decision.ALLOW),
            "bench",
            time=NOW,
        )
        for p in planned
    ]
    started = time.perf_counter()
    replans = 0
    for i in range(0, len(decisions), 1000):
        replans += (await scheduler.apply(decisions[i : i + 1000])).replans
    decided_s = time.perf_counter() - started

    await producer.stop()
    await engine.dispose()
    return {
        "accounts": accounts,
        "planner_workers": workers,
        "account_events_per_s": round(accounts / applied_s),
        "steps_planned": steps,
        "planning_ticks": ticks,
        "planning_s": round(planned_s, 2),
        "planning_steps_per_s": round(steps / planned_s),
        "planning_cases_per_s": round(accounts / planned_s),
        # This process's own CPU per step (PostgreSQL and Kafka run beside it):
        "planning_cpu_us_per_step": round(cpu_s / steps * 1e6, 1),
        "planning_steps_per_cpu_s": round(steps / cpu_s),
        "decisions_applied_per_s": round(len(decisions) / decided_s),
        "deferrals_replanned": replans,
    }


async def _planned_steps(store: SqlCaseStore) -> list[StepPlanned]:
    """Every planned step, read back in one query (as the gate would have received them)."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(steps_table))
        return [
            StepPlanned(account_id=r.account_id, step=step_from_row(r).step, planned_at=NOW)
            for r in rows
        ]


def main() -> None:
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    figures: dict[str, float] = {}
    if "--no-render" not in sys.argv:
        figures.update(bench_render())
    figures.update(asyncio.run(bench_planning(accounts, workers)))
    report("scheduler", figures)


if __name__ == "__main__":
    main()
