"""The pipeline page: the services' Prometheus samples, health and dead-letter queues as charts,
tiles and tables (pure).

Throughput per stage is counted where each stage happens: steps planned (scheduler) and
decided (gate, ``dunning_steps_total`` by outcome: a deferred or blocked step counts once per
rule that found against it, so the per-outcome sums are of rule findings, not of steps), and
records handled per consumer group (``dunning_handler_seconds_count``). Lag is the sum over
a group's partitions as of each consumer's last fetch; provider health is the calls to each
provider by outcome, and each service's /health.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dunning_ops.domain.charts import Chart, grouped, single
from dunning_ops.domain.observed import DeadQueue, Health, Sample
from dunning_ops.domain.portfolio import Tile

OUTCOMES = ("planned", "allow", "defer", "block")


@dataclass(frozen=True)
class PipelineView:
    tiles: tuple[Tile, ...]
    charts: tuple[Chart, ...]
    health: tuple[Health, ...]
    queues: tuple[DeadQueue, ...]
    metrics_seen: bool  # False: no service answered /metrics (no token configured?)

    def json(self) -> dict[str, Any]:
        return {
            "tiles": [t.__dict__ for t in self.tiles],
            "charts": [c.json() for c in self.charts],
            "health": [h.__dict__ for h in self.health],
            "dead_letters": {q.topic: q.size for q in self.queues},
        }


def _sum_by(samples: Iterable[Sample], name: str, *labels: str) -> dict[tuple[str, ...], float]:
    sums: dict[tuple[str, ...], float] = defaultdict(float)
    for s in samples:
        if s.name == name:
            sums[tuple(s.labels.get(label, "") for label in labels)] += s.value
    return dict(sums)


def _table(sums: dict[tuple[str, ...], float]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for (row, column), value in sorted(sums.items()):
        table.setdefault(row, {})[column] = value
    return table


def pipeline_view(
    samples: list[Sample], health: list[Health], queues: list[DeadQueue]
) -> PipelineView:
    steps = {k[0]: v for k, v in _sum_by(samples, "dunning_steps_total", "outcome").items()}
    steps_ordered = {o: steps.get(o, 0.0) for o in OUTCOMES} | {
        o: v for o, v in sorted(steps.items()) if o not in OUTCOMES
    }
    handled = {
        k[0]: v
        for k, v in sorted(_sum_by(samples, "dunning_handler_seconds_count", "group").items())
    }
    lag = {k[0]: v for k, v in sorted(_sum_by(samples, "dunning_consumer_lag", "group").items())}
    deliveries = _table(_sum_by(samples, "dunning_deliveries_total", "channel", "status"))
    providers = _table(
        _sum_by(samples, "dunning_provider_call_seconds_count", "provider", "outcome")
    )
    retries = sum(_sum_by(samples, "dunning_retries_total").values())
    backlog = _sum_by(samples, "dunning_outbox_backlog")
    dead = sum(q.size for q in queues)
    up = sum(1 for h in health if h.ok)
    tiles = (
        Tile("services_up", "Services up", f"{up} / {len(health)}"),
        Tile("outbox_backlog", "Outbox backlog",
             str(int(sum(backlog.values()))) if backlog else "n/a", "rows not yet published"),
        Tile("lag_total", "Consumer lag", str(int(sum(lag.values()))), "records, all groups"),
        Tile("dead_letters", "Dead letters", str(dead), "records parked on .dlq topics"),
        Tile("retries", "Retries", str(int(retries))),
    )  # fmt: skip
    charts = (
        single("steps", "Steps planned and decided (by outcome)", "bar", steps_ordered, "steps"),
        single("handled", "Records handled per consumer group", "hbar", handled, "records"),
        single("lag", "Consumer lag per group", "hbar", lag, "records behind"),
        single("dlq", "Dead letters per topic", "hbar",
               {q.topic: float(q.size) for q in queues}, "records"),
        grouped("deliveries", "Deliveries by channel and status", "bar", deliveries,
                ("delivered", "sent", "accepted", "failed", "undelivered", "bounced")),
        grouped("providers", "Provider calls by outcome", "bar", providers),
    )  # fmt: skip
    return PipelineView(tiles, charts, tuple(health), tuple(queues), bool(samples))
