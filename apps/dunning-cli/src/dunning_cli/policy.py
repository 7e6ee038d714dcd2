"""``dunning policy check|show``: a policy file judged as the services judge it at start-up.

The one place the CLI reads service code: a policy file is checked by the services' own
public loaders (``dunning_scheduler.policy``, ``dunning_gate.policy``), so the CLI
refuses exactly what the service would refuse, with the same message, naming the field
and its line. Everything else in the CLI talks to the services over HTTP.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from dunning_scheduler.policy.model import EscalationPolicy


class Kind(StrEnum):
    AUTO = "auto"
    SCHEDULER = "scheduler"
    GATE = "gate"


class PolicyProblem(Exception):
    """The file would stop a service at start-up; the message says where and why."""


def kind_of(text: str) -> Kind:
    """An escalation ladder has ``stages``; the gate's rule set has ``rules``."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return Kind.SCHEDULER  # either loader reports the YAML error with its position
    if isinstance(raw, dict) and "stages" not in raw and ("rules" in raw or "hours" in raw):
        return Kind.GATE
    return Kind.SCHEDULER


def check_scheduler(path: Path) -> EscalationPolicy:
    from dunning_scheduler.adapters.rendering import TemplateError, build_renderer
    from dunning_scheduler.config import SchedulerSettings
    from dunning_scheduler.policy.loader import PolicyError, load_policy

    try:
        renderer = build_renderer(SchedulerSettings())
        return load_policy(path, renderer.names)
    except (PolicyError, TemplateError) as exc:
        raise PolicyProblem(str(exc)) from exc


_GATE_PROBLEM = re.compile(r"^\s+(?P<path>[^\s:]+): ")


def check_gate(path: Path) -> str:
    """The gate's loader; each ``<path>: <message>`` line it reports gains `` (line N)``."""
    from dunning_gate.policy.loader import PolicyError, load_policy
    from dunning_scheduler.policy.lines import at_line

    try:
        return load_policy(path).policy_version
    except PolicyError as exc:
        text = path.read_text(encoding="utf-8")
        lines = []
        for line in str(exc).splitlines():
            match = _GATE_PROBLEM.match(line)
            parts = (
                [int(p) if p.isdigit() else p for p in match["path"].split(".")] if match else []
            )
            lines.append(line + at_line(text, parts) if match else line)
        raise PolicyProblem("\n".join(lines)) from exc


def check(path: Path, kind: Kind) -> str:
    """One line saying what the file is, or ``PolicyProblem``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyProblem(f"{path}: cannot read: {exc}") from exc
    if kind == Kind.AUTO:
        kind = kind_of(text)
    if kind == Kind.GATE:
        return f"{path}: a valid compliance-gate policy, version {check_gate(path)}"
    ladder = check_scheduler(path)
    return (
        f"{path}: a valid escalation policy, {ladder.name} version {ladder.version}, "
        f"{len(ladder.stages)} stages"
    )


def ladder(path: Path | None) -> EscalationPolicy:
    if path is not None:
        return check_scheduler(path)
    from dunning_scheduler.policy.loader import default_policy

    return default_policy()


def ladder_table(policy: EscalationPolicy) -> Table:
    table = Table(
        title=f"escalation policy {policy.name} (version {policy.version})",
        caption="days: from delinquency (d0), or after the previous stage (+N)",
    )
    table.add_column("#", justify="right")
    for column in ("stage", "days", "channels", "templates", "attempts"):
        table.add_column(column, overflow="fold")
    for n, stage in enumerate(policy.stages, 1):
        days = (
            f"d{stage.offset_days}"
            if stage.offset_from == "delinquency"
            else f"+{stage.offset_days}"
        )
        attempts = str(stage.max_attempts)
        if stage.retry_every_days is not None and stage.max_attempts > 1:
            attempts += f", every {stage.retry_every_days} d"
        name = stage.key if stage.key == stage.stage.value else f"{stage.key} as {stage.stage}"
        templates = "\n".join(stage.templates)
        if stage.fallback is not None:
            name += f"\nelse {stage.fallback.stage.value}"
            templates += "\n" + "\n".join(f"else {t}" for t in stage.fallback.templates)
        table.add_row(
            str(n), name, days, ", ".join(c.value for c in stage.channels), templates, attempts
        )
    return table


def print_ladder(policy: EscalationPolicy, console: Console | None = None) -> None:
    console = console or Console()
    console.print(ladder_table(policy))
    window = policy.send_window
    console.print(
        f"send window {window.start_hour:02d}:00-{window.end_hour:02d}:00 local "
        f"(preferred {window.preferred_hour:02d}:00), at least {policy.min_gap_days} days "
        "between steps"
    )
    plans = policy.plans
    console.print(
        f"plans and promises: reminders {plans.reminder_days_before} days before each "
        f"installment and {plans.promise_reminder_days_before} before a promised date; "
        f"thank-yous {'on' if plans.thank_payments else 'off'}, settlement confirmation "
        f"{'on' if plans.confirm_settlement else 'off'}, by "
        f"{' or '.join(c.value for c in plans.channels)}; a broken plan or promise resumes at "
        f"{plans.resume_stage or policy.stages[0].key}"
    )
