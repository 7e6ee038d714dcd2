"""``dunning gate explain``: one step's record from the ledger, as text for a person.

The record is the body of the ledger's ``GET /v1/steps/{step_id}``, read with the
CLI's own model of it (``dunning_cli.records``).
"""

from __future__ import annotations

import json
from datetime import datetime

from dunning_cli.records import DecisionRecord, DeliveryRecord, StepRecord


def _at(instant: datetime | None) -> str:
    return instant.isoformat().replace("+00:00", "Z") if instant else "-"


def _decision(d: DecisionRecord) -> list[str]:
    lines = [f"  {_at(d.decided_at)}  {d.decision.value.upper():5s}  policy {d.policy_version}"]
    if d.not_before:
        lines.append(f"    not before {_at(d.not_before)}")
    for f in d.findings:
        until = f" (until {_at(f.not_before)})" if f.not_before else ""
        lines.append(f"    {f.action:5s} {f.rule_id}: {f.explanation}{until}")
    if not d.findings:
        lines.append("    no rule objected")
    if d.inputs:
        lines.append("    inputs: " + json.dumps(d.inputs, default=str, sort_keys=True))
    return lines


def _delivery(e: DeliveryRecord) -> str:
    line = f"  {_at(e.occurred_at)}  {e.status.value:11s} {e.provider}"
    if e.provider_message_id:
        line += f" {e.provider_message_id}"
    if e.error_code:
        line += f"  error {e.error_code}"
    if e.detail:
        line += f": {e.detail}"
    return line


def render_step(record: StepRecord) -> str:
    step = record.step
    attempt = f" attempt {step.attempt}" if step.attempt is not None else ""
    lines = [
        f"step {step.step_id}  account {record.account_id}  "
        f"{step.channel} {step.stage or '?'}{attempt}",
    ]
    now = (step.decision or "undecided").upper()
    if step.rule_ids:
        now += " by " + ", ".join(step.rule_ids)
    status = step.delivery.status if step.delivery else "not sent"
    lines.append(f"now: {now}; delivery {status}")
    lines.append(f"decisions ({len(record.decisions)}):")
    for d in record.decisions:
        lines += _decision(d)
    if not record.decisions:
        lines.append("  none recorded yet")
    lines.append(f"deliveries ({len(record.deliveries)}):")
    lines += [_delivery(e) for e in record.deliveries]
    if not record.deliveries:
        lines.append("  none recorded")
    return "\n".join(lines)
