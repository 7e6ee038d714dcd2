"""The demo's closing summary, as text for a person (from the ledger's /v1/summary)."""

from __future__ import annotations

from typing import Any

from dunning_cli.demo_view import LADDER


def render_summary(summary: dict[str, Any]) -> str:
    accounts = summary.get("accounts") or {}
    steps = summary.get("steps") or {}
    rules = summary.get("rules") or {}
    lines = ["", "=== Dunning demo summary ==="]
    lines.append(f"accounts: {accounts.get('total', 0)} ({accounts.get('open', 0)} open)")
    lines.append(
        f"steps:    planned {steps.get('total', 0)}  approved {steps.get('allow', 0)}  "
        f"deferred {steps.get('defer', 0)}  blocked {steps.get('block', 0)}"
    )
    stages = summary.get("stages") or {}
    lines.append("steps by stage (planned: approved / deferred / blocked):")
    for stage in (*LADDER, *sorted(set(stages) - set(LADDER))):
        counts = stages.get(stage) or {}
        lines.append(
            f"  {stage:18s} {counts.get('total', 0):5d}: {counts.get('allow', 0)} / "
            f"{counts.get('defer', 0)} / {counts.get('block', 0)}"
        )
    missing = [s for s in LADDER if not (stages.get(s) or {}).get("total")]
    if missing:
        lines.append(f"ladder:   NOT every stage had steps: none for {', '.join(missing)}")
    else:
        lines.append(f"ladder:   every stage had steps ({' > '.join(LADDER)})")
    for title, key in (("blocked by rule", "block"), ("deferred by rule", "defer")):
        counts = rules.get(key) or {}
        if counts:
            lines.append(f"{title}:")
            for rule, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                lines.append(f"  {rule:34s} {n}")
    deliveries = summary.get("deliveries") or {}
    if deliveries:
        lines.append("messages by channel and latest status:")
        for channel, statuses in sorted(deliveries.items()):
            parts = "  ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
            lines.append(f"  {channel:6s} {parts}")
    payments = summary.get("payments") or {}
    if payments.get("count"):
        lines.append(f"payments: {payments['count']} {payments.get('amount', {})}")
    flags = summary.get("flags") or {}
    if flags:
        lines.append("consumer flags: " + ", ".join(f"{k} {v}" for k, v in sorted(flags.items())))
    return "\n".join(lines)
