"""The checker's verdicts on one step or message: outside the allowed hours, deferred past
the end, or where a step without a final outcome stopped. Pure functions of the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dunning_core.contracts.events import Decision, DeliveryStatus

HOUR_START, HOUR_END = 8, 21


def outside_hours(sim: datetime, zones: set[str]) -> str | None:
    for zone in sorted(zones):
        local = sim.astimezone(ZoneInfo(zone))
        if not HOUR_START <= local.hour < HOUR_END:
            return f"{local:%Y-%m-%d %H:%M} {zone}"
    return None


def deferred_past(history: list[tuple[float, str, Any]], end_sim: datetime) -> bool:
    """Whether the step's last word is a deferral to after the end (nothing planned since)."""
    for _, what, event in reversed(history):
        if what == "decision":
            return bool(
                event.decision == Decision.DEFER
                and (event.not_before is None or event.not_before > end_sim)
            )
        if what == "plan":
            return False
    return False


def scheduler_said(history: list[tuple[float, str, Any]], end_sim: datetime) -> str | None:
    """What the scheduler last said of a step, when that is the step's last word: "held"
    until after the end (a lapsed approval waiting for the window to open), "withdrawn" (its
    case paused, resolved or moved on); None otherwise. A hold whose time came before the
    end with no plan since is no answer: the step is judged as it stands."""
    if not history:
        return None
    _, what, event = max(history, key=lambda h: h[0])
    if what == "held" and event.send_at > end_sim:
        return "held"
    return "withdrawn" if what == "withdrawn" else None


def awaiting_provider(messages: list[dict[str, Any]]) -> bool:
    """Whether the provider still held reports of one of a step's messages at the end (a
    status not reached yet, a callback or event not yet acknowledged): ``unreported`` is the
    sandbox's own count. A message the sandbox has told everything of (or given up telling)
    is not awaiting anything: a final status missing then is ours to have lost."""
    return any(int(m.get("unreported") or 0) > 0 for m in messages)


def retrying_at_end(
    history: list[tuple[float, str, Any]], destination: str, faulted: set[str], since: float
) -> bool:
    """Whether a step approved and never sent was, at the end, a retry against a provider
    that refuses its destination (the driver's standing 429s and 500s): its last word an
    approval given after ``since`` (the end less the longest a worker keeps retrying), its
    destination one the provider refused. Its outcome ("failed", or an expiry) was still to
    come: counted, not lost."""
    if destination not in faulted or not history:
        return False
    at, what, event = max(history, key=lambda h: h[0])
    return what == "decision" and event.decision == Decision.ALLOW and at > since


def why_not_final(history: list[tuple[float, str, Any]], sent: list[Any]) -> str:
    """Where a step without a final outcome stopped: the last thing that happened to it."""
    _, what, event = max(history, key=lambda h: h[0])
    if what == "plan":
        replanned = sum(w == "plan" for _, w, _ in history) > 1
        return "re-planned, never decided again" if replanned else "never decided"
    if what in ("held", "withdrawn"):
        return "held, never re-planned" if what == "held" else "withdrawn"
    if what == "decision":
        if event.decision == Decision.DEFER:
            return "deferral passed, never decided again"
        return "sent, no final status" if sent else "approved, never sent"
    if event.status == DeliveryStatus.EXPIRED:
        return "expired, never re-planned"
    if sent:
        return "sent, no final status"
    return f"approved, last status {event.status.value}"


# The consumer group that acts next on a step stopped at a plan: the gate's. On an approval
# it is the channel's worker, whose group is named after the channel.
GATE_GROUP = "compliance-gate"


def queued(
    history: list[tuple[float, str, Any]],
    channel: str,
    at: tuple[str, int, int] | None,
    committed: dict[str, dict[str, int]],
) -> bool:
    """Whether a step that stopped at a plan or an approval stopped there only because its
    record was still waiting in Kafka when the services stopped: ``at`` (topic, partition,
    offset) of its last record is at or past the committed offset of the group that acts on
    it next (the offsets read after every service stopped). Such a record is consumed when
    the group next runs: a backlog at the end of a run that did not drain, not a loss. A
    record the group committed past, or a group with no offsets known, is judged as before."""
    if at is None or not history:
        return False
    _, what, event = max(history, key=lambda h: h[0])
    if what == "plan":
        group = GATE_GROUP
    elif what == "decision" and event.decision == Decision.ALLOW:
        group = channel
    else:
        return False
    if group not in committed:
        return False
    topic, partition, offset = at
    return offset >= committed[group].get(f"{topic}:{partition}", 0)
