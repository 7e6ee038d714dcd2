"""W3C trace context across Kafka hops, through the OpenTelemetry API.

With an OpenTelemetry SDK configured, every hop is a real span; without one, the trace id
still travels unchanged from the scheduler to the provider callback.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER = trace.get_tracer("dunning")


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def step_traceparent(step_id: str) -> str:
    """A traceparent whose trace id derives from the step id.

    Every hop that knows the step (a re-plan held for hours, a provider callback that
    carries only the step id) joins the same trace without storing it anywhere.
    """
    trace = hashlib.sha256(step_id.encode()).hexdigest()[:32]
    return f"00-{trace}-{secrets.token_hex(8)}-01"


@contextmanager
def span(name: str, traceparent: str | None) -> Iterator[str]:
    """A span that continues ``traceparent``; yields the traceparent for child events."""
    parent_ctx = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None
    with _TRACER.start_as_current_span(name, context=parent_ctx):
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        yield carrier.get("traceparent") or traceparent or new_traceparent()


def trace_id(traceparent: str | None) -> str | None:
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 else None
