"""What drives the use cases: the consumer-loop handler and the planner loop.

The handler buffers the batch's events and applies them in one go on ``flush``.
``ConsumerLoop`` commits offsets only after ``flush`` returns, so a crash or a failed
transaction redelivers the batch, which the idempotent reactions absorb. An event the
domain cannot apply goes to ``<topic>.dlq`` with the error, like any poison record.

The planner loop plans, every tick, the cases that are due (a ``Component`` with ``run``).
It loops without pausing while full batches keep coming (a backlog), and sleeps one
interval otherwise. Several replicas may run it: ``FOR UPDATE SKIP LOCKED`` gives each
its own cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from dunning_core.contracts.envelope import Envelope, encode
from dunning_core.contracts.topics import ACCOUNTS, DECISIONS, DELIVERY, PAYMENTS, SIGNALS, dlq
from dunning_core.runtime.kafka import Backoff, EventProducer

from dunning_scheduler.service import HANDLED_EVENTS, ApplyResult, Scheduler

log = logging.getLogger(__name__)

TOPICS = (ACCOUNTS, PAYMENTS, DECISIONS, DELIVERY, SIGNALS)


class SchedulerHandler:
    def __init__(
        self, scheduler: Scheduler, producer: EventProducer, topic_prefix: str = ""
    ) -> None:
        self.scheduler = scheduler
        self.producer = producer
        self.topic_prefix = topic_prefix
        self._pending: list[Envelope] = []
        self.totals = ApplyResult()

    async def handle(self, envelope: Envelope) -> None:
        if isinstance(envelope.data, HANDLED_EVENTS):
            self._pending.append(envelope)

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        result = await self.scheduler.apply(batch)
        self.totals.changed_cases += result.changed_cases
        self.totals.replans += result.replans
        self.totals.ignored += result.ignored
        if result.rejected:
            await self._dead_letter(result)

    async def _dead_letter(self, result: ApplyResult) -> None:
        futures = []
        for rejected in result.rejected:
            key, value, headers = encode(rejected.envelope)
            headers.append(("dlq_error", rejected.error[:2000].encode()))
            topic = self.topic_prefix + dlq(rejected.envelope.data.topic)
            futures.append(await self.producer.send_raw(topic, key, value, headers))
        await asyncio.gather(*futures)
        self.totals.rejected.extend(result.rejected[-10:])
        del self.totals.rejected[:-10]
        log.error("events dead-lettered", extra={"count": len(result.rejected)})


@dataclass
class PlannerStats:
    ticks: int = 0
    cases_planned: int = 0
    steps_published: int = 0
    promises_resumed: int = 0
    errors: int = 0
    last_error: str | None = None
    last_tick_at: float = 0.0
    recent_steps_per_s: float = 0.0


class PlannerLoop:
    def __init__(
        self, scheduler: Scheduler, *, interval_s: float = 0.2, batch: int = 500, workers: int = 2
    ) -> None:
        self.scheduler = scheduler
        self.interval_s = interval_s
        self.batch = batch
        self.workers = workers
        self.stats = PlannerStats()
        self.backoff = Backoff(initial=0.5, maximum=10.0)
        self._stopping = asyncio.Event()
        self.running = False

    async def start(self) -> None:
        self._stopping.clear()
        self.running = True

    async def stop(self) -> None:
        self._stopping.set()
        self.running = False

    async def tick(self) -> int:
        """Plan one batch; returns the number of cases planned."""
        started = time.perf_counter()
        result = await self.scheduler.plan_due(self.batch)
        elapsed = time.perf_counter() - started
        stats = self.stats
        stats.ticks += 1
        stats.cases_planned += result.cases
        stats.steps_published += result.steps
        stats.promises_resumed += result.resumed
        stats.last_tick_at = time.time()
        if result.steps and elapsed > 0:
            stats.recent_steps_per_s = round(result.steps / elapsed, 1)
        return result.cases

    async def run(self) -> None:
        """Run the workers: while one waits on the database or the broker, another renders."""
        async with asyncio.TaskGroup() as group:
            for n in range(self.workers):
                group.create_task(self._work(), name=f"planner-{n}")

    async def _work(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                planned = await self.tick()
                failures = 0
            except Exception as exc:  # database or broker away: back off, keep the loop alive
                self.stats.errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("planning failed, retrying", extra={"error": self.stats.last_error})
                await self._sleep(self.backoff.delay(failures))
                failures += 1
                continue
            if planned < self.batch:
                await self._sleep(self.interval_s)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def health(self) -> dict[str, Any]:
        s = self.stats
        return {
            "ok": self.running and (s.errors == 0 or s.last_tick_at > time.time() - 60),
            "ticks": s.ticks,
            "cases_planned": s.cases_planned,
            "steps_published": s.steps_published,
            "promises_resumed": s.promises_resumed,
            "errors": s.errors,
            "last_error": s.last_error,
            "recent_steps_per_s": s.recent_steps_per_s,
        }
