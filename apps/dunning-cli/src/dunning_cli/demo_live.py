"""The demo's progress while it runs: read the services' figures, draw them.

On a terminal, a ``rich`` live view redrawn about twice a second (steps by stage and
decision, the rules that blocked or deferred, deliveries by channel and status, payments,
the pipeline's lag). Anywhere else (CI, a pipe) a plain line every few seconds, with no
escape codes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dunning_cli.demo_view import DemoView, Figures, plain_line

REFRESH_S = 0.5  # the live view reads and redraws twice a second
PLAIN_EVERY_S = 5.0  # a plain line every 5 s
METRIC_SERVICES = ("ledger", "scheduler", "gate", "sms", "email")
WANTED = (
    "dunning_consumer_lag",
    "dunning_dead_letters_total",
    "dunning_retries_total",
    "dunning_outbox_backlog",
)


def simulated_now() -> str:
    """The shared accelerated clock's instant (DUNNING_CLOCK_*), or "" on the wall clock."""
    start = os.environ.get("DUNNING_CLOCK_START")
    if not start:
        return ""
    speed = float(os.environ.get("DUNNING_CLOCK_SPEED", "1"))
    epoch = float(os.environ.get("DUNNING_CLOCK_EPOCH", str(time.time())))
    at = datetime.fromisoformat(start) + timedelta(seconds=(time.time() - epoch) * speed)
    return at.astimezone(UTC).isoformat()


def metric_urls() -> dict[str, str]:
    """Each service's /metrics, on the port its DUNNING_<NAME>_PORT gives (the demo sets them)."""
    defaults = {"ledger": 8001, "scheduler": 8002, "gate": 8003, "sms": 8004, "email": 8005}
    return {
        name: f"http://127.0.0.1:{os.environ.get(f'DUNNING_{name.upper()}_PORT', port)}/metrics"
        for name, port in defaults.items()
        if name in METRIC_SERVICES
    }


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in WANTED:
                samples.append((sample.name, dict(sample.labels), float(sample.value)))
    return samples


async def _json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await http.get(url)
    except httpx.HTTPError:
        return {}
    return dict(response.json()) if response.status_code == 200 else {}


async def _metrics(
    http: httpx.AsyncClient, url: str, token: str
) -> list[tuple[str, dict[str, str], float]]:
    try:
        response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError:
        return []
    return parse_metrics(response.text) if response.status_code == 200 else []


async def read_figures(http: httpx.AsyncClient, ledger_url: str) -> Figures:
    """One refresh: the ledger's summary and portfolio figures, every service's /metrics
    (when DUNNING_METRICS_TOKEN is set), read side by side."""
    token = os.environ.get("DUNNING_METRICS_TOKEN", "")
    urls = metric_urls() if token else {}
    summary, portfolio, *metrics = await asyncio.gather(
        _json(http, f"{ledger_url}/v1/summary"),
        _json(http, f"{ledger_url}/v1/portfolio/figures?days=1"),
        *(_metrics(http, url, token) for url in urls.values()),
    )
    return Figures(
        summary=summary,
        portfolio=portfolio,
        metrics=dict(zip(urls, metrics, strict=True)),
        simulated_at=simulated_now(),
    )


def _count(n: int, style: str) -> Text:
    return Text(str(n), style=style if n else "dim")


BAR = 12  # characters of the widest stage's bar


def _bar(approved: int, deferred: int, blocked: int, widest: int) -> Text:
    """Approved, deferred and blocked steps as one bar, the widest stage BAR long."""
    bar = Text()
    for n, style in ((approved, "green"), (deferred, "yellow"), (blocked, "red")):
        bar.append("█" * round(BAR * n / widest) if widest else "", style=style)
    return bar


def render(view: DemoView, elapsed_s: float, title: str = "Dunning demo") -> Group:
    """The live view of one refresh (rich renderables)."""
    when = (
        f"  simulated {view.simulated_at[:16].replace('T', ' ')} UTC" if view.simulated_at else ""
    )
    head = Text.assemble(
        (f"{title}", "bold"),
        f"  t+{elapsed_s:.0f}s{when}  accounts {view.accounts} ({view.open_accounts} open)",
    )
    stages = Table(
        title="Steps by stage and decision (accounts: those whose latest step is of the stage)",
        title_justify="left",
    )
    stages.add_column("stage", no_wrap=True, min_width=17)
    for column in ("accounts", "planned", "approved", "deferred", "blocked"):
        stages.add_column(column, justify="right")
    stages.add_column("steps", no_wrap=True)
    widest = max((r.planned for r in view.stages), default=0)
    for row in view.stages:
        stages.add_row(
            Text(row.stage, style="bold" if row.planned else "dim"),
            _count(row.accounts, ""),
            _count(row.planned, ""),
            _count(row.approved, "green"),
            _count(row.deferred, "yellow"),
            _count(row.blocked, "red"),
            _bar(row.approved, row.deferred, row.blocked, widest),
        )
    rules = Table(title="Top rule ids", title_justify="left", expand=True)
    rules.add_column("decision")
    rules.add_column("rule ids (steps)")
    for rule_row in view.rules:
        text = "  ".join(f"{rule} {n}" for rule, n in rule_row.rules) or "-"
        rules.add_row(rule_row.decision, text)
    deliveries = Table(title="Deliveries by channel and status", title_justify="left", expand=True)
    deliveries.add_column("channel")
    deliveries.add_column("total", justify="right")
    deliveries.add_column("by status")
    for d in view.deliveries:
        bar = Text()
        for status, n in d.statuses:
            style = {"delivered": "green", "awaiting": "dim"}.get(status, "yellow")
            if status in ("failed", "undelivered", "bounced", "rejected", "spam_reported"):
                style = "red"
            bar.append(f"{status} {n}  ", style=style)
        deliveries.add_row(d.channel, str(d.total), bar)
    money = Text.assemble(("Payments ", "bold"), f"{view.payments}  collected {view.collected}")
    if view.flags:
        money.append("   flags " + "  ".join(f"{k} {n}" for k, n in view.flags))
    pipeline = Text("Pipeline  ", style="bold")
    for p in view.pipeline:
        pipeline.append(f"{p.service} lag {p.lag}", style="yellow" if p.lag else "")
        pipeline.append(f" dlq {p.dead_letters}  ", style="red" if p.dead_letters else "")
    if view.outbox_backlog is not None:
        pipeline.append(f"outbox {view.outbox_backlog}")
    reached = Text("Ladder  ", style="bold")
    for stage in (r.stage for r in view.stages if r.stage in view.reached + view.missing):
        done = stage in view.reached
        reached.append(("✓ " if done else "· ") + stage + "  ", style="green" if done else "dim")
    return Group(head, stages, rules, deliveries, money, pipeline, reached)


class Progress:
    """Draws each refresh: a live view on a terminal, else a plain line now and then."""

    def __init__(self, out: TextIO | None = None, live: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.live_mode = self.out.isatty() if live is None else live
        self._live: Live | None = None
        self._last_plain = -PLAIN_EVERY_S

    def __enter__(self) -> Progress:
        if self.live_mode:
            console = Console(file=self.out)
            self._live = Live(console=console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def note(self, message: str) -> None:
        """A line above the view (the live view keeps redrawing under it)."""
        if self._live is not None:
            self._live.console.print(message)
        else:
            print(message, file=self.out, flush=True)

    def show(self, view: DemoView, elapsed_s: float, *, force: bool = False) -> None:
        if self._live is not None:
            self._live.update(render(view, elapsed_s), refresh=True)
        elif force or elapsed_s - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = elapsed_s
            print("  " + plain_line(view, elapsed_s), file=self.out, flush=True)
