"""Builds the scheduler: policy, renderer, database, producer, consumer loop, planner, app.

Tests pass their own clock, or renderer and policy (``Configured``); everything else is built
from settings. A policy or template set that does not validate stops the service here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dunning_core.contracts.access import Permission
from dunning_core.runtime.api_docs import DOCS_OFF, serve_api_docs
from dunning_core.runtime.auth import follow_keys, require
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import Depends, FastAPI

from dunning_scheduler.adapters.database import make_engine, migrate
from dunning_scheduler.adapters.kafka_publisher import KafkaStepPublisher
from dunning_scheduler.adapters.rendering import Renderer, build_renderer
from dunning_scheduler.adapters.repository import SqlCaseStore
from dunning_scheduler.api import preview_router, router
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.handlers import TOPICS, PlannerLoop, SchedulerHandler
from dunning_scheduler.policy.loader import default_policy, load_policy
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_scheduler.service import Scheduler

SERVICE = "scheduler"


class Configured(NamedTuple):
    """What the scheduler renders with, and the policy it runs (checked against its templates)."""

    renderer: Renderer
    policy: EscalationPolicy


def configured(settings: SchedulerSettings) -> Configured:
    renderer = build_renderer(settings)
    if settings.policy_path is not None:
        return Configured(renderer, load_policy(settings.policy_path, renderer.names))
    return Configured(renderer, default_policy(renderer.names))


def build(
    settings: SchedulerSettings, given: Configured | None = None, clock: Clock | None = None
) -> FastAPI:
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    renderer, policy = given or configured(settings)
    engine = make_engine(settings.database_url, settings.db_pool_size)
    store = SqlCaseStore(engine, [s.key for s in policy.stages], clock)
    producer = EventProducer(settings.kafka_bootstrap, SERVICE, topic_prefix=settings.topic_prefix)
    scheduler = Scheduler(store, KafkaStepPublisher(producer), renderer, policy, clock)
    handler = SchedulerHandler(scheduler, producer, settings.topic_prefix)
    loop = ConsumerLoop(
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.topic_prefix + settings.group_id,
        topics=TOPICS,
        handler=handler,
        producer=producer,
        topic_prefix=settings.topic_prefix,
        max_records=settings.max_records,
    )
    planner = PlannerLoop(
        scheduler,
        interval_s=settings.planner_interval_s,
        batch=settings.planner_batch,
        workers=settings.planner_workers,
    )

    runtime = ServiceRuntime(SERVICE)

    async def open_database() -> None:
        if settings.migrate_on_start:
            await migrate(engine)

    async def close_database() -> None:
        await engine.dispose()

    async def database() -> dict[str, Any]:
        await store.ping()
        return {"ok": True}

    async def reactions() -> dict[str, Any]:
        totals = handler.totals
        return {
            "changed_cases": totals.changed_cases,
            "replans": totals.replans,
            "ignored": totals.ignored,
            "rejected": len(totals.rejected),
        }

    runtime.add(Component("database", open_database, close_database))
    runtime.checks["database"] = database
    runtime.add(Component("producer", producer.start, producer.stop))
    runtime.add_loop("consumer", loop)
    runtime.checks["reactions"] = reactions
    if settings.planner_enabled:
        runtime.add(Component("planner", planner.start, planner.stop, planner.run))

        async def planning() -> dict[str, Any]:
            return planner.health()

        runtime.checks["planner"] = planning

    app = FastAPI(title="Dunning scheduler", lifespan=lifespan_for(runtime), **DOCS_OFF)
    serve_api_docs(app)
    app.include_router(health_router(runtime))
    observe(app, settings)
    # Every route here is a read: any valid key (401 without one).
    reads = [Depends(require(Permission.READ))]
    app.include_router(
        router(store, policy, planner if settings.planner_enabled else None), dependencies=reads
    )
    app.include_router(preview_router(renderer, policy), dependencies=reads)
    follow_keys(app, runtime, settings)
    app.state.runtime = runtime
    app.state.scheduler = scheduler
    app.state.planner = planner
    app.state.consumer = loop
    app.state.store = store
    return app
