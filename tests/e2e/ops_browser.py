"""Support for the dashboard's browser test: the run's pipeline with the dashboard, signing in,
and judging a chart's screenshot (kept under .state/artifacts/ops/)."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from dunning_testkit.paths import KAFKA, service_url
from dunning_testkit.stack import REPO
from playwright.sync_api import Page

from .conftest import services_running

OPS = service_url("ops")
LEDGER = service_url("ledger")
ARTIFACTS = REPO / ".state" / "artifacts" / "ops"
METRICS_TOKEN = "ops-e2e-metrics-token-" + "0123456789abcdef"

# The variance of a screenshot's grey levels: 0 for a blank (one-colour) image. A chart with
# axes, labels and bars is in the hundreds or thousands; a blank canvas on white is 0.
_VARIANCE = """async (src) => {
  const img = new Image(); img.src = src; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const x = c.getContext('2d'); x.drawImage(img, 0, 0);
  const d = x.getImageData(0, 0, c.width, c.height).data;
  let n = 0, s = 0, s2 = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = (d[i] + d[i + 1] + d[i + 2]) / 3; s += v; s2 += v * v; n++;
  }
  const m = s / n; return s2 / n - m * m;
}"""


def run_pipeline(prefix: str) -> Iterator[dict[str, str]]:
    """Every service of services.conf (the dashboard too) as processes on ``prefix``."""
    settings = {
        "DUNNING_METRICS_TOKEN": METRICS_TOKEN,
        # Ten services start at once on two shared cores: give a loaded machine time.
        "DUNNING_SERVICE_TIMEOUT": os.environ.get("DUNNING_SERVICE_TIMEOUT", "180"),
    }
    with services_running(prefix, 6, settings) as env:
        yield env


def new_prefix() -> str:
    return f"ops{uuid.uuid4().hex[:6]}."


def sign_in(page: Page, key: str) -> None:
    """Sign in afresh with ``key`` (any earlier session's cookie dropped first)."""
    page.context.clear_cookies()
    page.goto(f"{OPS}/signin")
    page.fill("#key", key)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(f"{OPS}/")


def open_as(page: Page, key: str, path: str) -> None:
    """Sign in afresh with ``key``, then open the dashboard's ``path``."""
    sign_in(page, key)
    page.goto(f"{OPS}{path}")


def chart_variance(page: Page, png: bytes) -> float:
    source = "data:image/png;base64," + base64.b64encode(png).decode()
    return float(page.evaluate(_VARIANCE, source))


def shoot_charts(page: Page, name: str, width: int) -> dict[str, float]:
    """Every chart of the page drawn, each one's screenshot kept; variance by chart id."""
    page.wait_for_selector("[data-source][data-loaded]", timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    found: dict[str, float] = {}
    for canvas in page.locator("canvas[data-chart]").all():
        chart = str(canvas.get_attribute("data-chart"))
        assert canvas.get_attribute("data-drawn") == "1", chart
        figure = page.locator(f"figure[data-testid='chart-{chart}']")
        path: Path = ARTIFACTS / f"{name}-{chart}-{width}.png"
        png = figure.screenshot(path=str(path))
        found[chart] = chart_variance(page, png)
    return found


def no_blank_chart(page: Page, name: str, width: int) -> dict[str, float]:
    """:func:`shoot_charts`, none of them blank (a variance under 50 is an empty canvas)."""
    variances = shoot_charts(page, name, width)
    blank = {chart: v for chart, v in variances.items() if v < 50}
    assert not blank, blank
    return variances


def served_charts(page: Page, name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """What the page ``name`` was drawn from (its ``/api/<name>``), and its charts by id."""
    body: dict[str, Any] = page.request.get(f"{OPS}/api/{name}").json()
    return body, {c["id"]: c for c in body["charts"]}


def payment_events(
    prefix: str, account_id: str, wanted: str, timeout_s: float = 60
) -> list[dict[str, Any]]:
    """The payments.v1 events of ``account_id`` (read from the start, no group), once one of
    type ``wanted`` is among them (or the time is up)."""

    async def read() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            f"{prefix}payments.v1", bootstrap_servers=KAFKA, auto_offset_reset="earliest",
            group_id=None, enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        found: list[dict[str, Any]] = []
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and not any(e["type"] == wanted for e in found):
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for r in records:
                        headers = {k: v.decode() for k, v in r.headers}
                        data = orjson.loads(r.value or b"{}")
                        if data.get("account_id") == account_id:
                            found.append({"type": headers.get("ce_type"), **data})
        finally:
            await consumer.stop()
        return found

    # Playwright's sync API runs an event loop in this thread: read Kafka in another one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def produce_unreadable(prefix: str, topic: str, key: str) -> None:
    """A record no consumer can read (not a CloudEvent): its consumers park it on the .dlq."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
        await producer.start()
        try:
            await producer.send_and_wait(f"{prefix}{topic}", b"not an event", key=key.encode())
        finally:
            await producer.stop()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, send()).result()
