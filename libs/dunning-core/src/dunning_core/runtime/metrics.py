"""Prometheus metrics of a service, and the ``GET /metrics`` route that serves them.

The metrics live in prometheus-client's default registry (one process, one service).
Counters are bumped where things happen (cheap: a labelled child is a dict lookup and a
lock); gauges that cost a query (the outbox backlog) are refreshed by probes run when
Prometheus scrapes.

``/metrics`` is not public: it answers a bearer token, ``DUNNING_METRICS_TOKEN``, the
same on every service (the workers hold no API keys to check a key against). Prometheus
sends it (``authorization: {credentials_file: ...}``, or a ServiceMonitor's
``bearerTokenSecret``). With no token configured, ``/metrics`` refuses every request.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import SecretStr

Probe = Callable[[], Awaitable[None]]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

STEPS = Counter(
    "dunning_steps_total",
    "Outreach steps by what became of them (planned, allow, defer, block) and rule id.",
    ["outcome", "rule"],
)
DELIVERIES = Counter(
    "dunning_deliveries_total",
    "Delivery reports published, by channel and status.",
    ["channel", "status"],
)
RETRIES = Counter(
    "dunning_retries_total",
    "Retries: of a consumer batch or record (where=consumer) or of a provider send.",
    ["where", "name"],
)
DEAD_LETTERS = Counter(
    "dunning_dead_letters_total",
    "Records parked on a dead-letter topic, by source topic and consumer group.",
    ["topic", "group"],
)
CONSUMER_LAG = Gauge(
    "dunning_consumer_lag",
    "Records behind the partition's high watermark, as of the group's last fetch.",
    ["group", "topic", "partition"],
)
HANDLER_SECONDS = Histogram(
    "dunning_handler_seconds",
    "Time to handle one consumed event, by consumer group.",
    ["group"],
    buckets=_LATENCY_BUCKETS,
)
PROVIDER_SECONDS = Histogram(
    "dunning_provider_call_seconds",
    "Duration of one provider call, by provider and outcome.",
    ["provider", "outcome"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge(
    "dunning_outbox_backlog",
    "Outbox rows not yet published (refreshed on every scrape).",
)


async def exposition(probes: Sequence[Probe] = (), registry: CollectorRegistry = REGISTRY) -> bytes:
    """The text format, after running ``probes`` (each refreshes a gauge that costs a query)."""
    for probe in probes:
        try:
            await probe()
        except Exception:  # a probe whose store is away leaves its gauge as it was
            continue
    return generate_latest(registry)


def metrics_router(token: SecretStr | None, probes: Sequence[Probe] = ()) -> APIRouter:
    router = APIRouter()
    expected = token.get_secret_value().encode() if token is not None else None

    @router.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if expected is None:
            return JSONResponse(
                {"error": "forbidden", "message": "metrics are off: DUNNING_METRICS_TOKEN unset"},
                status_code=403,
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            return JSONResponse(
                {"error": "unauthorized", "message": "a bearer metrics token is required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(await exposition(probes), media_type=CONTENT_TYPE_LATEST)

    return router


def install_metrics(app: FastAPI, token: SecretStr | None, probes: Sequence[Probe] = ()) -> None:
    app.include_router(metrics_router(token, probes))
