"""W3C trace context across Kafka hops, through the OpenTelemetry API.

With an OpenTelemetry SDK configured (``telemetry.setup_telemetry``), every hop is a real
span; without one, the trace id still travels unchanged from the scheduler to the provider
callback, and nothing here costs more than a type check per record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from dunning_core.contracts.envelope import Envelope

_TRACER = trace.get_tracer("dunning")
_NO_SPAN: AbstractContextManager[None] = nullcontext()


def active() -> bool:
    """Whether an SDK records spans in this process (else every span here is skipped)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def step_traceparent(step_id: str) -> str:
    """A traceparent whose trace id derives from the step id.

    Every hop that knows the step (a re-plan held for hours, a provider callback that
    carries only the step id) joins the same trace without storing it anywhere.
    """
    trace = hashlib.sha256(step_id.encode()).hexdigest()[:32]
    return f"00-{trace}-{secrets.token_hex(8)}-01"


def _context(traceparent: str | None) -> Any:
    """The OTel context whose remote parent ``traceparent`` names (None: a new trace)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        parent = SpanContext(
            trace_id=int(parts[1], 16),
            span_id=int(parts[2], 16),
            is_remote=True,
            trace_flags=TraceFlags(int(parts[3], 16)),
        )
    except ValueError:
        return None
    if not parent.is_valid:
        return None
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _format(context: SpanContext) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


@contextmanager
def span(
    name: str,
    traceparent: str | None,
    attributes: dict[str, Any] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[str]:
    """A span that continues ``traceparent``; yields the traceparent for child events.

    The child of the span in progress when that one is of the same trace (a consumer's
    processing span), else of ``traceparent`` itself. Without an SDK it yields
    ``traceparent`` (or a new one) and records nothing.
    """
    if not active():
        yield traceparent or new_traceparent()
        return
    current_context = trace.get_current_span().get_span_context()
    same_trace = current_context.is_valid and (
        not traceparent or trace_id(traceparent) == f"{current_context.trace_id:032x}"
    )
    parent = None if same_trace else _context(traceparent)
    with _TRACER.start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes
    ) as current:
        yield _format(current.get_span_context())


@contextmanager
def hop(name: str, envelope: Envelope) -> Iterator[Envelope]:
    """A span continuing ``envelope``'s trace; yields the envelope naming that span as its
    traceparent, for the events it causes (the envelope itself without an SDK)."""
    if not active():
        yield envelope
        return
    with span(name, envelope.traceparent, {"cloudevents.subject": envelope.subject}) as current:
        yield dataclasses.replace(envelope, traceparent=current)


def consuming(
    topic: str, group: str, traceparent: str | None, event_type: str, event_id: str
) -> AbstractContextManager[Any]:
    """The processing span of one consumed record, child of the context it carries."""
    if not active():
        return _NO_SPAN
    return _TRACER.start_as_current_span(
        f"{topic} process",
        context=_context(traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": group,
            "messaging.message.id": event_id,
            "cloudevents.event_type": event_type,
        },
    )


def callback_span(name: str, envelope: Envelope) -> AbstractContextManager[Any]:
    """A span of the trace ``envelope`` names (a provider's callback about a step), in
    which it is sent; nothing for an envelope without a trace, or without an SDK."""
    if not envelope.traceparent or not active():
        return _NO_SPAN
    return _TRACER.start_as_current_span(
        name,
        context=_context(envelope.traceparent),
        attributes={"cloudevents.event_type": envelope.type},
    )


@contextmanager
def batch_span(name: str, item_name: str, traceparents: Sequence[str | None]) -> Iterator[None]:
    """One span for work done for a batch at once (a transaction), and one ``item_name``
    span in each item's trace that lasts as long, linked to it: every trace shows the
    write that concerned it, and the batch's own spans (SQL) hang under ``name``."""
    if not active():
        yield
        return
    items = [_TRACER.start_span(item_name, context=_context(tp)) for tp in traceparents]
    links = [Link(item.get_span_context()) for item in items]
    try:
        with _TRACER.start_as_current_span(
            name, links=links, attributes={"batch.size": len(items)}
        ):
            yield
    except BaseException as exc:
        for item in items:
            item.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for item in items:
            item.end()


def within(name: str, attributes: dict[str, Any] | None = None) -> AbstractContextManager[Any]:
    """A child span of the current one (a provider call, a database write), or nothing."""
    if not active():
        return _NO_SPAN
    return _TRACER.start_as_current_span(name, attributes=attributes)


def outgoing(traceparent: str | None) -> str | None:
    """The traceparent to send with an event that names ``traceparent``.

    The span in progress when it continues the same trace (or when the event names none),
    so the next hop is its child; an event that starts or names another trace keeps it.
    """
    current = trace.get_current_span().get_span_context()
    if not current.is_valid:
        return traceparent
    if traceparent and trace_id(traceparent) != f"{current.trace_id:032x}":
        return traceparent
    return _format(current)


def current_ids() -> tuple[str, str] | None:
    """The trace and span ids (hex) of the span in progress, for log lines."""
    current = trace.get_current_span().get_span_context()
    if not current.is_valid:
        return None
    return f"{current.trace_id:032x}", f"{current.span_id:016x}"


def trace_id(traceparent: str | None) -> str | None:
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 else None
