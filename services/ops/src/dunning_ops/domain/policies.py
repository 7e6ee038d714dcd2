"""The policies page: the active escalation ladder (the scheduler's ``/v1/stats``) as a diagram,
each step with its volumes (pure).

A step's volume is the cases whose next step it is, by their status (the scheduler's
``cases_by_stage``), and the accounts whose latest logged message was of its stage (the
ledger's ``accounts_by_stage``: several steps may share a stage). The diagram is an SVG drawn
from these boxes: one column, mildest first, so it reads the same on a phone and a desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from dunning_ops.domain.charts import Chart, grouped

BOX_W: Final = 640
BOX_H: Final = 104
GAP: Final = 36
DONE: Final = "(done)"


@dataclass(frozen=True)
class Step:
    index: int
    key: str
    stage: str
    channels: str
    timing: str
    attempts: str
    legal: str
    cases: dict[str, int]
    accounts_at_stage: int
    y: int  # the box's top in the SVG
    bar: int  # the width of its volume bar


@dataclass(frozen=True)
class PolicyView:
    name: str
    version: str
    steps: tuple[Step, ...]
    finished: dict[str, int]  # cases past the last step, by status
    height: int
    width: int
    charts: tuple[Chart, ...]
    resume_stage: str

    def json(self) -> dict[str, Any]:
        return {
            "policy": {"name": self.name, "version": self.version},
            "steps": [
                {"key": s.key, "stage": s.stage, "cases": s.cases,
                 "accounts_at_stage": s.accounts_at_stage}
                for s in self.steps
            ],
            "charts": [c.json() for c in self.charts],
        }  # fmt: skip


def _timing(stage: dict[str, Any], first: bool) -> str:
    days = int(stage.get("offset_days", 0))
    if stage.get("offset_from") == "delinquency" or first:
        return f"day {days} of delinquency"
    return f"{days} day{'s' if days != 1 else ''} after the previous step"


def _attempts(stage: dict[str, Any]) -> str:
    n = int(stage.get("max_attempts", 1))
    if n == 1:
        return "1 attempt"
    return f"{n} attempts, every {stage.get('retry_every_days')} days"


def policy_view(stats: dict[str, Any], figures: dict[str, Any]) -> PolicyView:
    policy = stats.get("policy", {})
    by_key: dict[str, dict[str, int]] = stats.get("cases_by_stage", {})
    by_stage: dict[str, int] = figures.get("accounts_by_stage", {})
    stages: list[dict[str, Any]] = policy.get("stages", [])
    totals = [sum(by_key.get(s["key"], {}).values()) for s in stages]
    most = max(totals, default=0) or 1
    steps = []
    for i, stage in enumerate(stages):
        fallback = stage.get("fallback")
        legal = ""
        if stage.get("requires_legal_authority"):
            legal = "legal authority required"
            if fallback:
                legal += f"; otherwise {fallback.get('stage')}"
        steps.append(Step(
            index=i + 1,
            key=str(stage["key"]),
            stage=str(stage.get("stage", "")),
            channels=", ".join(stage.get("channels", [])),
            timing=_timing(stage, i == 0),
            attempts=_attempts(stage),
            legal=legal,
            cases=dict(by_key.get(stage["key"], {})),
            accounts_at_stage=int(by_stage.get(stage.get("stage", ""), 0)),
            y=GAP // 2 + i * (BOX_H + GAP),
            bar=round((BOX_W - 40) * totals[i] / most),
        ))  # fmt: skip
    table = {s.key: {k: float(v) for k, v in s.cases.items()} for s in steps}
    finished = dict(by_key.get(DONE, {}))
    if finished:
        table[DONE] = {k: float(v) for k, v in finished.items()}
    chart = grouped(
        "cases", "Cases by step and status", "bar", table,
        ("active", "paused", "exhausted", "resolved"),
    )  # fmt: skip
    return PolicyView(
        name=str(policy.get("name", "")),
        version=str(policy.get("version", "")),
        steps=tuple(steps),
        finished=finished,
        height=GAP + len(steps) * (BOX_H + GAP),
        width=BOX_W + 20,
        charts=(chart,),
        resume_stage=str(policy.get("resume_stage") or (steps[0].key if steps else "")),
    )
