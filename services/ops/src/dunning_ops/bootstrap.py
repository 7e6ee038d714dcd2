"""Builds the dashboard from settings: the service clients, the key verifier, the sessions
(in Redis), the routes. Tests pass fakes of the ports (``Ports``: the keys, the upstreams and
the sessions' store) and need no Kafka or Redis."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
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
from dunning_ops.ports import Keys, SessionStore
from dunning_ops.service import Ops, Upstreams
from dunning_ops.sessions import Sessions


class _Client(Protocol):
    async def aclose(self) -> None: ...


_C = TypeVar("_C", bound=_Client)


def _closing(runtime: ServiceRuntime, name: str, client: _C) -> _C:
    """``client``, closed when the service stops."""
    runtime.add_closing(name, client.aclose)
    return client


@dataclass(frozen=True)
class Ports:
    """What the dashboard reads and signs in with, given by tests (fakes); without them
    ``build`` connects to the services, Kafka and Redis."""

    keys: Keys
    upstreams: Upstreams
    sessions: SessionStore | None = None  # None: in Redis all the same


def _upstreams(settings: OpsSettings, runtime: ServiceRuntime) -> Upstreams:
    """The services' HTTP clients and the dead letters' consumer, closed when it stops."""
    timeout = settings.timeout_s
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    ledger = _closing(runtime, "ledger-client", HttpLedger.connect(settings.ledger_url, timeout))
    gate = _closing(runtime, "gate-client", HttpGate.connect(settings.gate_url, timeout))
    scheduler = _closing(
        runtime, "scheduler-client", HttpScheduler.connect(settings.scheduler_url, timeout)
    )
    probes = _closing(runtime, "probes", HttpProbes(settings.services, token, timeout))
    kafka = KafkaDeadLetters(settings.kafka_bootstrap, settings.topic_prefix)
    runtime.add(Component("dead-letters", kafka.start, kafka.stop))
    return Upstreams(ledger, gate, scheduler, probes, kafka)


def _redis_sessions(settings: OpsSettings, runtime: ServiceRuntime) -> SessionStore:
    redis = redis_client(settings.redis_url)

    async def close_redis() -> None:
        await redis.aclose()

    runtime.add_closing("sessions", close_redis)
    return RedisSessionStore(redis, settings.topic_prefix)


def build(settings: OpsSettings, ports: Ports | None = None) -> FastAPI:
    runtime = ServiceRuntime("ops")
    app = FastAPI(
        title="Dunning operations dashboard",
        lifespan=lifespan_for(runtime),
        openapi_url=None,
        **DOCS_OFF,
    )
    if ports is None:
        follow_keys(app, runtime, settings)
        ports = Ports(app.state.verifier, _upstreams(settings, runtime))
    store = ports.sessions if ports.sessions is not None else _redis_sessions(settings, runtime)
    signing = (
        settings.session_key.get_secret_value().encode()
        if settings.session_key
        else secrets.token_bytes(32)
    )
    signed_in = Sessions(ports.keys, store, signing, settings.session_ttl_s)
    app.state.sessions = signed_in
    pages = Pages()
    clock = clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    ops = Ops(ports.upstreams, clock)
    app.include_router(health_router(runtime))
    install_errors(app, pages)
    app.include_router(router(ops, signed_in, pages, settings.secure_cookie))
    app.mount("/static", StaticFiles(directory=str(files("dunning_ops") / "static")), "static")
    observe(app, settings)
    return app
