"""Builds the dashboard from settings: the service clients, the key verifier, the sessions
(in Redis), the routes. Tests pass fakes of the ports (``keys``, ``ledger``, ``sessions``...)
and need no Kafka or Redis."""

from __future__ import annotations

import secrets
from importlib.resources import files
from typing import Protocol, TypeVar

from dunning_core.runtime.api_docs import DOCS_OFF
from dunning_core.runtime.auth import follow_keys
from dunning_core.runtime.clock import clock_from
from dunning_core.runtime.redis_client import redis_client
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dunning_ops.adapters.kafka_dlq import KafkaDeadLetters
from dunning_ops.adapters.probes_http import HttpProbes
from dunning_ops.adapters.redis_sessions import RedisSessionStore
from dunning_ops.adapters.services_http import HttpGate, HttpLedger, HttpScheduler
from dunning_ops.api import install_errors, router
from dunning_ops.config import OpsSettings
from dunning_ops.pages import Pages
from dunning_ops.ports import DeadLetters, Gate, Keys, Ledger, Probes, Scheduler, SessionStore
from dunning_ops.service import Ops, Upstreams
from dunning_ops.sessions import Sessions


class _Client(Protocol):
    async def aclose(self) -> None: ...


_C = TypeVar("_C", bound=_Client)


def _closing(runtime: ServiceRuntime, name: str, client: _C) -> _C:
    """``client``, closed when the service stops."""
    runtime.add_closing(name, client.aclose)
    return client


def build(
    settings: OpsSettings,
    *,
    keys: Keys | None = None,
    ledger: Ledger | None = None,
    gate: Gate | None = None,
    scheduler: Scheduler | None = None,
    probes: Probes | None = None,
    dead_letters: DeadLetters | None = None,
    sessions: SessionStore | None = None,
) -> FastAPI:
    runtime = ServiceRuntime("ops")
    app = FastAPI(
        title="Dunning operations dashboard",
        lifespan=lifespan_for(runtime),
        openapi_url=None,
        **DOCS_OFF,
    )
    if keys is None:
        follow_keys(app, runtime, settings)
        keys = app.state.verifier
    timeout = settings.timeout_s
    if ledger is None:
        ledger = _closing(
            runtime, "ledger-client", HttpLedger.connect(settings.ledger_url, timeout)
        )
    if gate is None:
        gate = _closing(runtime, "gate-client", HttpGate.connect(settings.gate_url, timeout))
    if scheduler is None:
        scheduler = _closing(
            runtime, "scheduler-client", HttpScheduler.connect(settings.scheduler_url, timeout)
        )
    if probes is None:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        probes = _closing(runtime, "probes", HttpProbes(settings.services, token, timeout))
    if dead_letters is None:
        kafka = KafkaDeadLetters(settings.kafka_bootstrap, settings.topic_prefix)
        runtime.add(Component("dead-letters", kafka.start, kafka.stop))
        dead_letters = kafka
    if sessions is None:
        redis = redis_client(settings.redis_url)

        async def close_redis() -> None:
            await redis.aclose()

        runtime.add_closing("sessions", close_redis)
        sessions = RedisSessionStore(redis, settings.topic_prefix)
    assert keys is not None
    signing = (
        settings.session_key.get_secret_value().encode()
        if settings.session_key
        else secrets.token_bytes(32)
    )
    signed_in = Sessions(keys, sessions, signing, settings.session_ttl_s)
    app.state.sessions = signed_in
    pages = Pages()
    clock = clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    ops = Ops(Upstreams(ledger, gate, scheduler, probes, dead_letters), clock)
    app.include_router(health_router(runtime))
    install_errors(app, pages)
    app.include_router(router(ops, signed_in, pages, settings.secure_cookie))
    app.mount("/static", StaticFiles(directory=str(files("dunning_ops") / "static")), "static")
    observe(app, settings)
    return app
