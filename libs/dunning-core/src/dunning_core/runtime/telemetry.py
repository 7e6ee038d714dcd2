"""Telemetry of a service: the OpenTelemetry SDK with its exporter, and the app's hooks.

``setup_telemetry(service, settings)`` (every service's entry point calls it once, before
building the app) installs a tracer provider whose resource names the service, with a
batch span processor (spans are exported off the event loop, in the SDK's thread) and one
exporter chosen from configuration alone:

- OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is
  set, over ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf``, the default, or ``grpc``);
- else JSON lines in ``$DUNNING_STATE_DIR/traces/<service>.jsonl`` when
  ``DUNNING_TRACES_FILE=1``;
- else none: no SDK is installed, and the tracing helpers cost a type check.

Sampling follows the standard ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``
(default: parent-based, always on), less the client calls made outside any trace
(``NoOrphanClients``). The library instrumentations (httpx, aiohttp client,
Redis, SQLAlchemy) are switched on with the SDK, less those named in the standard
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``. aiokafka's is not used: the consumer loop makes
the processing spans itself, and the producer writes the trace context into the headers
(see ``tracing``); its instrumentation would add a second ``traceparent`` header.

``observe(app, settings)`` (every app factory calls it) traces the app's requests when the
SDK is on and serves ``GET /metrics`` (see ``metrics``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState, get_current_span
from opentelemetry.util.types import Attributes

from dunning_core.runtime.metrics import Probe, install_metrics
from dunning_core.runtime.settings import CommonSettings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_provider: TracerProvider | None = None


class NoOrphanClients(Sampler):
    """The configured sampler, less the client calls made outside any trace.

    A Redis, SQL or HTTP call with no span around it is a background poll (the retry
    runner, the outbox relay, the key follower): traced, each would be a trace of its own
    several times a second. Inside a request or a record's processing span, they are kept.
    """

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if (
            kind is SpanKind.CLIENT
            and not get_current_span(parent_context).get_span_context().is_valid
        ):
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"NoOrphanClients({self.inner.get_description()})"


def configured() -> Sampler:
    """The sampler ``OTEL_TRACES_SAMPLER`` names (default: parent-based, always on)."""
    return sampling._get_from_env_or_default()


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one JSON line to a file (local runs and tests)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(span.to_json(indent=None) + "\n" for span in spans)
        with self._lock:
            if self._file is None:
                return SpanExportResult.FAILURE
            self._file.write(lines)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def traces_path(service: str, settings: CommonSettings) -> Path:
    return settings.state_dir / "traces" / f"{service}.jsonl"


def _otlp_exporter() -> SpanExporter | None:
    if not (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    ):
        return None
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()  # endpoint, headers, timeout: the standard OTEL_* variables
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def choose_exporter(service: str, settings: CommonSettings) -> SpanExporter | None:
    """The exporter configuration asks for: OTLP, else the JSON-lines file, else none."""
    otlp = _otlp_exporter()
    if otlp is not None:
        return otlp
    if settings.traces_file:
        return JsonLinesSpanExporter(traces_path(service, settings))
    return None


def setup_telemetry(
    service: str, settings: CommonSettings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Install the SDK for ``service`` if configuration asks for an exporter (once per
    process: a later call returns the provider in place). ``exporter`` overrides the
    configured one (tests)."""
    global _provider
    with _lock:
        if _provider is not None:
            return _provider
        if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return None
        exporter = exporter or choose_exporter(service, settings)
        if exporter is None:
            return None
        resource = Resource.create({SERVICE_NAME: service})
        provider = TracerProvider(resource=resource, sampler=NoOrphanClients(configured()))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _provider = provider
    _instrument_libraries()
    log.info("tracing on", extra={"exporter": type(exporter).__name__})
    return provider


def shutdown_telemetry() -> None:
    """Export what is pending and stop (the SDK also does it at exit)."""
    if _provider is not None:
        _provider.force_flush()


def _instrument_libraries() -> None:
    disabled = {
        name.strip()
        for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")
    }
    if "httpx" not in disabled:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument()
    if "aiohttp-client" not in disabled:
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

        AioHttpClientInstrumentor().instrument()
    if "redis" not in disabled:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        RedisInstrumentor().instrument()
    if "sqlalchemy" not in disabled:
        try:
            from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        except ImportError:  # a service without the database (no SQLAlchemy installed)
            return
        # It declares SQLAlchemy < 2.1 but works with 2.1 (the engine events are the same).
        SQLAlchemyInstrumentor().instrument(skip_dep_check=True)


def observe(app: FastAPI, settings: CommonSettings, probes: Sequence[Probe] = ()) -> None:
    """Trace the app's requests (when the SDK is on) and serve its ``/metrics`` (``probes``
    refresh the gauges that cost a query, on each scrape)."""
    if _provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, excluded_urls="/health,/health/live,/metrics", tracer_provider=_provider
        )
    install_metrics(app, settings.metrics_token, probes)
