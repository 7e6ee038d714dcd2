"""One step, one trace: plan, gate decision, send, provider call, status callback and the
ledger's write, found under one trace id in the JSON-lines file exporter's output; and
``/metrics`` showing the counters move.

The services run here for real on the shared stack, in this process (the ledger, the gate's
pipeline, the sms worker) or on free loopback ports (the sms ingress and the provider
sandbox, which calls it back): never on the fixed ports of the end-to-end run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from dunning_core.contracts import wrap
from dunning_core.runtime.kafka import EventProducer
from dunning_core.runtime.tracing import step_traceparent, trace_id
from dunning_ledger.bootstrap import build_ledger
from dunning_scheduler.adapters.kafka_publisher import KafkaStepPublisher
from dunning_sms.bootstrap import build, build_ingress
from dunning_sms.config import SmsSettings
from dunning_testkit.gate import NOW, NewYorkSms, gate_pipeline, gate_redis, started, stopped
from dunning_testkit.ledger import settings_for
from dunning_testkit.servers import BackgroundServer
from dunning_testkit.sms import sms_settings
from dunning_testkit.telemetry import telemetry
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

pytestmark = pytest.mark.integration

TOKEN = "metrics-token-for-the-trace-test"
EXPECTED = {
    "scheduler.plan",
    "gate.decide",
    "sms.send",
    "twilio.call",
    "sms.status_callback",
    "ledger.write",
}


# The settings of the testkit's `sandbox` fixture (one sandbox for the module).
SANDBOX_SETTINGS = {"callback_delay_ms": 5}


def timed_sms_settings(topics: str, sandbox: str, ingress: str) -> SmsSettings:
    """The worker's settings with its clock started at ``NOW`` and its metrics behind ``TOKEN``."""
    return sms_settings(
        topics,
        sandbox,
        ingress,
        clock_start=NOW,  # the gate decides at NOW: the worker's clock starts there
        clock_epoch=time.time(),
        metrics_token=SecretStr(TOKEN),
    )


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


async def scrape(app: FastAPI) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as http:
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return samples(response.text)


async def test_one_step_is_one_trace_from_the_plan_to_the_ledger_and_metrics_move(
    topics: str,
    producer: EventProducer,
    sandbox: str,
    fresh_database: Callable[[str], Awaitable[str]],
) -> None:
    spans = telemetry()  # before any app is built: the instrumentations are in place
    story = NewYorkSms("T")
    planned = story.planned(2, attempt=1)  # +12125550002: accepted, sent, then delivered
    step_trace = trace_id(step_traceparent(planned.step.step_id))
    assert step_trace is not None
    await producer.publish([wrap(story.account(2), "ledger")])

    ledger = build_ledger(settings_for(topics, await fresh_database("traces")))
    redis = gate_redis()
    gate = gate_pipeline(topics, redis)
    gate_task = None
    ingress_settings: dict[str, SmsSettings] = {}
    ingress = BackgroundServer(lambda: build_ingress(ingress_settings["s"]), factory=True)
    ingress_settings["s"] = timed_sms_settings(topics, sandbox, ingress.base_url)
    worker = build(timed_sms_settings(topics, sandbox, ingress.base_url))
    async with contextlib.AsyncExitStack() as stack:
        await ledger.runtime.start()
        stack.push_async_callback(ledger.runtime.stop)
        gate_task = await started(gate)
        stack.push_async_callback(stopped, gate, gate_task)
        stack.enter_context(ingress)
        await stack.enter_async_context(worker.router.lifespan_context(worker))
        before = await scrape(worker)

        await KafkaStepPublisher(producer).publish([(planned, None)])

        found: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not found >= EXPECTED:
            await asyncio.sleep(0.5)
            found = {str(s["name"]) for s in spans.file_spans(step_trace)}
        after = await scrape(worker)
    await redis.aclose()

    assert found >= EXPECTED, f"missing {sorted(EXPECTED - found)}; found {sorted(found)}"
    written = spans.file_spans(step_trace)
    processing = {str(s["name"]) for s in written if str(s["name"]).endswith(" process")}
    assert f"{topics}outreach.approved.sms.v1 process" in processing  # the sms worker
    assert f"{topics}outreach.decisions.v1 process" in processing  # the ledger
    assert f"{topics}delivery.v1 process" in processing  # the ledger
    by_id = {str(s["context"]["span_id"]): s for s in written}  # type: ignore[index]
    send = next(s for s in written if s["name"] == "twilio.call")
    assert send["parent_id"] in by_id, "the provider call hangs under the send"
    assert by_id[str(send["parent_id"])]["name"] == "sms.send"

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("dunning_steps_total", outcome="planned") >= 1
    assert moved("dunning_steps_total", outcome="allow") >= 1
    assert moved("dunning_deliveries_total", channel="sms", status="accepted") >= 1
    assert moved("dunning_deliveries_total", channel="sms", status="delivered") >= 1  # ingress
    assert moved("dunning_provider_call_seconds_count", provider="twilio") >= 1
    assert moved("dunning_handler_seconds_count") >= 1
