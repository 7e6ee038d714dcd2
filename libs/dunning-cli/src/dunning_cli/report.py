"""The demo's closing summary, as text for a person."""

from __future__ import annotations

from typing import Any


def render_summary(summary: dict[str, Any]) -> str:
    lines = ["", "=== Dunning demo summary ==="]
    lines.append(f"accounts: {summary.get('accounts', 0)}")
    steps = summary.get("steps", {})
    lines.append(
        "steps:    planned {planned}  approved {allow}  deferred {defer}  blocked {block}".format(
            planned=steps.get("planned", sum(steps.get(k, 0) for k in ("allow", "defer", "block"))),
            allow=steps.get("allow", 0),
            defer=steps.get("defer", 0),
            block=steps.get("block", 0),
        )
    )
    for title, key in (
        ("blocked by rule", "blocked_by_rule"),
        ("deferred by rule", "deferred_by_rule"),
    ):
        counts = summary.get(key) or {}
        if counts:
            lines.append(f"{title}:")
            for rule, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                lines.append(f"  {rule:34s} {n}")
    deliveries = summary.get("deliveries") or {}
    if deliveries:
        lines.append("messages by channel and final status:")
        for channel, statuses in sorted(deliveries.items()):
            parts = "  ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
            lines.append(f"  {channel:6s} {parts}")
    payments = summary.get("payments")
    if payments:
        lines.append(f"payments: {payments}")
    return "\n".join(lines)
