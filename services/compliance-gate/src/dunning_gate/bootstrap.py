"""Builds the compliance gate: policy, Redis state, the decision pipeline, the HTTP app.

A policy file that does not validate stops the gate here, with the reason: it never runs
on a guess.
"""

from __future__ import annotations

import gc
from typing import Any

from dunning_core.contracts.access import Permission
from dunning_core.runtime.api_docs import DOCS_OFF, serve_api_docs
from dunning_core.runtime.auth import follow_keys, require
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.kafka import EventProducer
from dunning_core.runtime.redis_client import redis_client
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import Depends, FastAPI

from dunning_gate.adapters.redis_state import RedisStateStore
from dunning_gate.api import router
from dunning_gate.config import GateSettings
from dunning_gate.handlers import GatePipeline
from dunning_gate.policy.loader import default_policy, load_policy
from dunning_gate.policy.model import Policy
from dunning_gate.service import GateDecider

# A batch keeps thousands of young objects alive (records, events, states, decisions):
# with CPython's default gen-0 threshold (700) they were scanned over and over, and each
# full collection walked every module, schema and policy object loaded at start-up.
# Together that was ~15% of the gate's CPU (see docs/perf/gate.md).
GC_THRESHOLDS = (50_000, 20, 20)


def settle_heap() -> None:
    """Move what start-up built out of the collector's sight and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def load_configured_policy(settings: GateSettings) -> Policy:
    return load_policy(settings.policy_path) if settings.policy_path else default_policy()


def build(
    settings: GateSettings, clock: Clock | None = None, policy: Policy | None = None
) -> FastAPI:
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    policy = policy or load_configured_policy(settings)
    redis = redis_client(settings.redis_url)
    producer = EventProducer(
        settings.kafka_bootstrap, "compliance-gate", topic_prefix=settings.topic_prefix
    )
    pipeline = GatePipeline(
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
        store=RedisStateStore(redis, prefix=settings.topic_prefix + settings.redis_prefix),
        producer=producer,
        decide=GateDecider(policy),
        clock=clock,
        topic_prefix=settings.topic_prefix,
        max_records=settings.max_records,
        history_days=settings.history_days,
        outage_reminder_s=settings.outage_reminder_s,
    )
    runtime = ServiceRuntime("compliance-gate")

    async def close_redis() -> None:
        await redis.aclose()

    async def decisions() -> dict[str, Any]:
        report = pipeline.health()
        report["policy_version"] = policy.policy_version
        return report

    runtime.add_closing("redis", close_redis)
    runtime.add(Component("producer", producer.start, producer.stop))

    async def start_pipeline() -> None:
        await pipeline.start()
        settle_heap()

    runtime.add(Component("pipeline", start_pipeline, pipeline.stop, pipeline.run))
    runtime.checks["pipeline"] = decisions
    app = FastAPI(title="Dunning compliance gate", lifespan=lifespan_for(runtime), **DOCS_OFF)
    serve_api_docs(app)
    app.include_router(health_router(runtime))
    observe(app, settings)
    # What-if and the policy are reads: any valid key (401 without one).
    app.include_router(router(policy), dependencies=[Depends(require(Permission.READ))])
    follow_keys(app, runtime, settings)
    app.state.runtime = runtime
    app.state.pipeline = pipeline
    return app
