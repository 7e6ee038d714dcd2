"""Telemetry: the exporter configuration picks, the trace context a record carries in and
out, trace ids in log lines, and ``/metrics`` behind its token."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from dunning_core.contracts import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_core.runtime import tracing
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.settings import CommonSettings
from dunning_core.runtime.telemetry import (
    JsonLinesSpanExporter,
    NoOrphanClients,
    choose_exporter,
    observe,
)
from dunning_testkit.telemetry import telemetry
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from .factories import step_planned
from .json_logs import json_logged

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE = "0af7651916cd43dd8448eb211c80319c"
OTHER = "00-11111111111111111111111111111111-2222222222222222-01"


@pytest.fixture(autouse=True)
def no_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def test_no_exporter_unless_configured(tmp_path: Path) -> None:
    assert choose_exporter("ledger", CommonSettings(state_dir=tmp_path)) is None


def test_the_file_exporter_when_asked_under_the_state_dir(tmp_path: Path) -> None:
    exporter = choose_exporter("ledger", CommonSettings(state_dir=tmp_path, traces_file=True))
    assert isinstance(exporter, JsonLinesSpanExporter)
    assert exporter.path == tmp_path / "traces" / "ledger.jsonl"
    exporter.shutdown()


@pytest.mark.parametrize(
    ("protocol", "kind"),
    [(None, OTLPSpanExporter), ("http/protobuf", OTLPSpanExporter), ("grpc", GrpcExporter)],
)
def test_otlp_wins_when_its_endpoint_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protocol: str | None, kind: type
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    if protocol:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    exporter = choose_exporter("sms", CommonSettings(state_dir=tmp_path, traces_file=True))
    assert isinstance(exporter, kind)
    assert exporter is not None
    exporter.shutdown()


def test_a_span_continues_the_traceparent_and_lands_in_the_file() -> None:
    t = telemetry()
    with tracing.span("unit.work", PARENT) as child:
        assert tracing.trace_id(child) == TRACE
    written = t.file_spans(TRACE)
    work = [s for s in written if s["name"] == "unit.work"]
    assert work, written
    assert work[-1]["parent_id"] == "0xb7ad6b7169203331"
    resource = work[-1]["resource"]
    assert isinstance(resource, dict)
    assert resource["attributes"]["service.name"] == "tests"


async def _sent_headers(envelope: Any) -> dict[str, bytes]:
    producer = EventProducer("127.0.0.1:1", "unit")
    sent: list[Sequence[tuple[str, bytes]]] = []

    async def send_raw(
        topic: str, key: Any, value: Any, headers: Sequence[tuple[str, bytes]]
    ) -> Any:
        sent.append(headers)
        return None

    producer.send_raw = send_raw  # type: ignore[method-assign]
    await producer.send(envelope)
    return dict(sent[0])


async def test_the_producer_writes_the_span_in_progress_into_the_headers() -> None:
    telemetry()
    envelope = wrap(step_planned(), "unit", traceparent=PARENT)
    assert (await _sent_headers(envelope))["traceparent"] == PARENT.encode()  # no span: as is
    with tracing.span("unit.hop", PARENT) as current:
        headers = await _sent_headers(envelope)
    assert headers["traceparent"] == current.encode() != PARENT.encode()
    assert headers["ce_traceparent"] == current.encode()
    assert tracing.trace_id(headers["traceparent"].decode()) == TRACE
    # An event that names another trace keeps it.
    with tracing.span("unit.hop", PARENT):
        other = await _sent_headers(wrap(step_planned(), "unit", traceparent=OTHER))
    assert other["traceparent"] == OTHER.encode()


async def test_the_consumer_loop_handles_each_record_in_a_child_span_of_its_context() -> None:
    t = telemetry()
    seen: list[tuple[str, str] | None] = []

    class Handler:
        async def handle(self, envelope: Any) -> None:
            seen.append(tracing.current_ids())

        async def flush(self) -> None:
            return None

    loop = ConsumerLoop(
        bootstrap="127.0.0.1:1",
        group_id="unit-group",
        topics=["steps.planned.v1"],
        handler=Handler(),
        producer=EventProducer("127.0.0.1:1", "unit"),
    )
    envelope = wrap(step_planned(), "unit", traceparent=PARENT)
    record: Any = SimpleNamespace(topic="p.steps.planned.v1", offset=7)
    assert await loop._handle(record, envelope) is None
    assert seen[0] is not None
    assert seen[0][0] == TRACE
    spans = [s for s in t.spans(TRACE) if s.name == "p.steps.planned.v1 process"]
    assert spans
    assert spans[-1].parent is not None
    assert spans[-1].parent.span_id == int("b7ad6b7169203331", 16)
    assert spans[-1].attributes is not None
    assert spans[-1].attributes["messaging.consumer.group.name"] == "unit-group"


def test_a_log_line_written_in_a_span_carries_its_ids() -> None:
    telemetry()
    with json_logged("unit.telemetry", "unit") as (logger, stream):
        logger.warning("outside")
        with tracing.span("unit.log", PARENT):
            ids = tracing.current_ids()
            logger.warning("inside")
    outside, inside = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert "trace_id" not in outside
    assert ids is not None
    assert (inside["trace_id"], inside["span_id"]) == ids
    assert inside["trace_id"] == TRACE


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_metrics_answer_only_the_token_and_count_deliveries() -> None:
    closed, app = FastAPI(), FastAPI()
    observe(closed, CommonSettings())
    observe(app, CommonSettings(metrics_token=SecretStr("m" * 32)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=closed), base_url="http://t"
        ) as off:
            assert (await off.get("/metrics")).status_code == 403
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        auth = {"Authorization": "Bearer " + "m" * 32}
        before = _sample((await http.get("/metrics", headers=auth)).text,
                         "dunning_deliveries_total", channel="sms", status="delivered")  # fmt: skip
        event = DeliveryUpdated(
            account_id="acc-1", step_id="stp_1", channel=Channel.SMS, provider="twilio",
            status=DeliveryStatus.DELIVERED, occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        )  # fmt: skip
        await _sent_headers(wrap(event, "unit"))
        response = await http.get("/metrics", headers=auth)
    assert response.status_code == 200
    after = _sample(response.text, "dunning_deliveries_total", channel="sms", status="delivered")
    assert after == before + 1


def test_client_calls_outside_any_trace_are_not_sampled_inside_one_they_are() -> None:
    sampler = NoOrphanClients(ALWAYS_ON)
    root = sampler.should_sample(None, 1, "EVAL", SpanKind.CLIENT)
    assert root.decision is Decision.DROP
    # is_sampled is untyped in the SDK
    assert sampler.should_sample(None, 1, "job", SpanKind.INTERNAL).decision.is_sampled()  # type: ignore[no-untyped-call]
    parent = trace.set_span_in_context(
        NonRecordingSpan(SpanContext(5, 6, is_remote=True, trace_flags=TraceFlags(1)))
    )
    assert sampler.should_sample(parent, 5, "EVAL", SpanKind.CLIENT).decision.is_sampled()  # type: ignore[no-untyped-call]
