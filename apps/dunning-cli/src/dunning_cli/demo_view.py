"""What the demo's live view shows, from the figures the services report (pure).

``Figures`` holds what one refresh read: the ledger's ``/v1/summary`` and
``/v1/portfolio/figures`` bodies and the samples of every service's ``/metrics``.
``build_view`` turns them into rows; the live view (``demo_live``) only draws the rows,
and ``plain_line`` words them on one line for a terminal that is not one (CI, a pipe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dunning_core.contracts.common import Stage

LADDER: tuple[str, ...] = tuple(s.value for s in Stage)
TOP_RULES = 3


@dataclass(frozen=True)
class Figures:
    summary: Mapping[str, Any] = field(default_factory=dict)
    portfolio: Mapping[str, Any] = field(default_factory=dict)
    # (metric name, labels, value) of every service's /metrics, by service.
    metrics: Mapping[str, list[tuple[str, dict[str, str], float]]] = field(default_factory=dict)
    simulated_at: str = ""  # the shared clock's instant, ISO, when read


@dataclass(frozen=True)
class StageRow:
    stage: str
    accounts: int  # accounts whose latest step is of this stage
    planned: int
    approved: int
    deferred: int
    blocked: int


@dataclass(frozen=True)
class RuleRow:
    decision: str  # "blocked" or "deferred"
    rules: tuple[tuple[str, int], ...]  # the top rule ids, most steps first


@dataclass(frozen=True)
class DeliveryRow:
    channel: str
    total: int
    statuses: tuple[tuple[str, int], ...]  # by status, alphabetical


@dataclass(frozen=True)
class PipelineRow:
    service: str
    lag: int  # records behind, over every group and partition of the service
    dead_letters: int
    retries: int


@dataclass(frozen=True)
class DemoView:
    simulated_at: str
    accounts: int
    open_accounts: int
    stages: tuple[StageRow, ...]
    rules: tuple[RuleRow, ...]
    deliveries: tuple[DeliveryRow, ...]
    payments: int
    collected: str  # "USD 123.45" (every currency), or "-"
    pipeline: tuple[PipelineRow, ...]
    outbox_backlog: int | None
    flags: tuple[tuple[str, int], ...]

    @property
    def reached(self) -> tuple[str, ...]:
        """The ladder's stages with at least one step planned, mildest first."""
        return tuple(r.stage for r in self.stages if r.stage in LADDER and r.planned)

    @property
    def missing(self) -> tuple[str, ...]:
        """The ladder's stages no step has reached yet."""
        return tuple(s for s in LADDER if s not in self.reached)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _stage_rows(summary: Mapping[str, Any], portfolio: Mapping[str, Any]) -> tuple[StageRow, ...]:
    steps: Mapping[str, Any] = summary.get("stages") or {}
    accounts: Mapping[str, Any] = portfolio.get("accounts_by_stage") or {}
    extra = sorted((set(steps) | set(accounts)) - set(LADDER) - {"none"})
    rows = []
    for stage in (*LADDER, *extra):
        counts: Mapping[str, Any] = steps.get(stage) or {}
        rows.append(
            StageRow(
                stage=stage,
                accounts=_int(accounts.get(stage)),
                planned=_int(counts.get("total")),
                approved=_int(counts.get("allow")),
                deferred=_int(counts.get("defer")),
                blocked=_int(counts.get("block")),
            )
        )
    return tuple(rows)


def _rule_rows(summary: Mapping[str, Any]) -> tuple[RuleRow, ...]:
    rules: Mapping[str, Any] = summary.get("rules") or {}
    rows = []
    for key, title in (("block", "blocked"), ("defer", "deferred")):
        counts: Mapping[str, Any] = rules.get(key) or {}
        top = sorted(((str(r), _int(n)) for r, n in counts.items()), key=lambda kv: (-kv[1], kv[0]))
        rows.append(RuleRow(title, tuple(top[:TOP_RULES])))
    return tuple(rows)


def _delivery_rows(summary: Mapping[str, Any]) -> tuple[DeliveryRow, ...]:
    deliveries: Mapping[str, Any] = summary.get("deliveries") or {}
    rows = []
    for channel in sorted(deliveries):
        statuses = tuple(sorted((str(s), _int(n)) for s, n in (deliveries[channel] or {}).items()))
        rows.append(DeliveryRow(channel, sum(n for _, n in statuses), statuses))
    return tuple(rows)


def _pipeline_rows(
    metrics: Mapping[str, list[tuple[str, dict[str, str], float]]],
) -> tuple[tuple[PipelineRow, ...], int | None]:
    rows = []
    backlog: int | None = None
    for service in sorted(metrics):
        lag = dead = retries = 0.0
        for name, _labels, value in metrics[service]:
            if name == "dunning_consumer_lag":
                lag += value
            elif name == "dunning_dead_letters_total":
                dead += value
            elif name == "dunning_retries_total":
                retries += value
            elif name == "dunning_outbox_backlog":
                backlog = (backlog or 0) + int(value)
        rows.append(PipelineRow(service, int(lag), int(dead), int(retries)))
    return tuple(rows), backlog


def build_view(figures: Figures) -> DemoView:
    summary, portfolio = figures.summary, figures.portfolio
    accounts: Mapping[str, Any] = summary.get("accounts") or {}
    payments: Mapping[str, Any] = summary.get("payments") or {}
    amounts: Mapping[str, Any] = payments.get("amount") or {}
    pipeline, backlog = _pipeline_rows(figures.metrics)
    if backlog is None and "outbox_pending" in summary:
        backlog = _int(summary["outbox_pending"])
    flags: Mapping[str, Any] = summary.get("flags") or {}
    return DemoView(
        simulated_at=figures.simulated_at,
        accounts=_int(accounts.get("total")),
        open_accounts=_int(accounts.get("open")),
        stages=_stage_rows(summary, portfolio),
        rules=_rule_rows(summary),
        deliveries=_delivery_rows(summary),
        payments=_int(payments.get("count")),
        collected="  ".join(f"{c} {a}" for c, a in sorted(amounts.items())) or "-",
        pipeline=pipeline,
        outbox_backlog=backlog,
        flags=tuple(sorted((str(k), _int(v)) for k, v in flags.items())),
    )


def plain_line(view: DemoView, elapsed_s: float) -> str:
    """The view on one line, no escape codes: for logs and pipes."""
    stages = " ".join(
        f"{r.stage}={r.approved}/{r.deferred}/{r.blocked}" for r in view.stages if r.planned
    )
    deliveries = " ".join(
        f"{r.channel}:" + ",".join(f"{s}={n}" for s, n in r.statuses) for r in view.deliveries
    )
    lag = sum(r.lag for r in view.pipeline)
    when = f" sim {view.simulated_at[:16]}" if view.simulated_at else ""
    return (
        f"t+{elapsed_s:4.0f}s{when}  steps(approved/deferred/blocked) {stages or '-'}  "
        f"deliveries {deliveries or '-'}  payments {view.payments} ({view.collected})  "
        f"lag {lag}"
    )
