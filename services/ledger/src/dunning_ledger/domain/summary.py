"""The demo's summary, assembled from grouped counts (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.events import Decision

from dunning_ledger.domain.money import format_minor

AWAITING = "awaiting"  # allowed, no delivery report yet
NO_STAGE = "none"  # a step whose delivery report came before its decision carried a stage


@dataclass(frozen=True)
class SummaryCounts:
    accounts_by_status: Mapping[str, int] = field(default_factory=dict)
    steps_by_decision: Mapping[str, int] = field(default_factory=dict)
    steps_by_stage: Iterable[tuple[str | None, str, int]] = ()  # (stage, decision, steps)
    rule_hits: Iterable[tuple[str, str, int]] = ()  # (decision, rule_id, steps)
    deliveries: Iterable[tuple[str, str | None, int]] = ()  # (channel, status, steps)
    payments: Iterable[tuple[str, int, int]] = ()  # (currency, count, sum of minor units)
    active_flags: Mapping[str, int] = field(default_factory=dict)
    outbox_pending: int = 0


def _ladder_order(stage: str) -> tuple[int, str]:
    ladder = [s.value for s in Stage]
    return (ladder.index(stage) if stage in ladder else len(ladder), stage)


def build_summary(counts: SummaryCounts) -> dict[str, Any]:
    steps: dict[str, int] = {d.value: counts.steps_by_decision.get(d.value, 0) for d in Decision}
    rules: dict[str, dict[str, int]] = {Decision.BLOCK.value: {}, Decision.DEFER.value: {}}
    for decision, rule_id, n in counts.rule_hits:
        bucket = rules.setdefault(decision, {})
        bucket[rule_id] = bucket.get(rule_id, 0) + n
    deliveries: dict[str, dict[str, int]] = {c.value: {} for c in Channel}
    for channel, status, n in counts.deliveries:
        bucket = deliveries.setdefault(channel, {})
        key = status or AWAITING
        bucket[key] = bucket.get(key, 0) + n
    stages: dict[str, dict[str, int]] = {}
    for stage, decision, n in counts.steps_by_stage:
        bucket = stages.setdefault(stage or NO_STAGE, {"total": 0} | {d.value: 0 for d in Decision})
        bucket[decision] = bucket.get(decision, 0) + n
        bucket["total"] += n
    payment_count = 0
    amounts: dict[str, str] = {}
    for currency, n, total in sorted(counts.payments):
        payment_count += n
        amounts[currency] = format_minor(total, currency)
    return {
        "accounts": {
            "total": sum(counts.accounts_by_status.values()),
            **dict(sorted(counts.accounts_by_status.items())),
        },
        "steps": {"total": sum(steps.values()), **steps},
        # Steps by the ladder's stage (mildest first) and the gate's latest decision.
        "stages": dict(sorted(stages.items(), key=lambda kv: _ladder_order(kv[0]))),
        "rules": {
            k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in rules.items()
        },
        "deliveries": {k: dict(sorted(v.items())) for k, v in deliveries.items()},
        "payments": {"count": payment_count, "amount": amounts},
        "flags": dict(sorted(counts.active_flags.items())),
        "outbox_pending": counts.outbox_pending,
    }
