"""Time-of-day rules: hours.fdcpa, hours.consumer_stated, state.fl.hours, state.ok.prerecorded.

A time is allowed only if it is allowed in every candidate zone of the consumer. A defer
names the earliest instant that this rule accepts (DST-correct, see `time_windows`).
Exceptions are explicit inputs: a reply in the same medium to a message the consumer
started, and the consumer's direct prior consent to a time (per-window in the policy;
the consumer's own "inconvenient" statements honour both).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from dunning_core.time_windows import (
    MIDNIGHT,
    next_instant,
    next_window_start,
    outside,
    window_allows,
    window_close,
)

from dunning_gate.domain.context import RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.request import InconvenientTime
from dunning_gate.policy.vocabulary import HoursRuleId

_HORIZON_DAYS = 8


def _judged_now(ctx: RuleContext) -> bool:
    """Email is judged at the instant of sending, or not at all (policy)."""
    return ctx.step.channel != "email" or ctx.policy.email_judged_at_send


def _consented(ctx: RuleContext, at: datetime) -> bool:
    channel = ctx.step.channel
    return any(
        c.start <= at < c.end and (not c.channels or channel in c.channels)
        for c in ctx.facts.consumer.consented_times
    )


def _consent_boundaries(ctx: RuleContext) -> list[datetime]:
    return [c.start for c in ctx.facts.consumer.consented_times]


def _local_times(ctx: RuleContext, at: datetime) -> dict[str, datetime]:
    return {
        name: at.astimezone(zone)
        for name, zone in zip(ctx.facts.zone_names, ctx.facts.zones, strict=True)
    }


def _hours_apply(ctx: RuleContext, rule_id: HoursRuleId) -> bool:
    window = ctx.policy.hours[rule_id]
    step = ctx.step
    if step.channel not in window.channels or not _judged_now(ctx):
        return False
    return not ("reply_to_consumer" in window.exceptions and step.is_reply_to_consumer_initiated)


def _hours_close(ctx: RuleContext, rule_id: HoursRuleId) -> datetime | None:
    """When the window this hours rule allowed `ctx.at` in closes (None: it does not
    apply, or stays open over the horizon)."""
    if not _hours_apply(ctx, rule_id):
        return None
    window = ctx.policy.hours[rule_id]
    zones = ctx.facts.zones
    start, end = window.start, window.end
    if "prior_consent" in window.exceptions and ctx.facts.consumer.consented_times:

        def allowed(at: datetime) -> bool:
            return window_allows(at, zones, start, end) or _consented(ctx, at)

        extra = _consent_boundaries(ctx) + [c.end for c in ctx.facts.consumer.consented_times]
        return next_instant(ctx.at, zones, outside(allowed), (start, end), extra, _HORIZON_DAYS)
    return window_close(ctx.at, zones, start, end)


def _hours(ctx: RuleContext, rule_id: HoursRuleId) -> RuleOutcome | None:
    if not _hours_apply(ctx, rule_id):
        return None
    window = ctx.policy.hours[rule_id]
    zones = ctx.facts.zones
    start, end = window.start, window.end
    if window_allows(ctx.at, zones, start, end):
        return None
    honour_consent = "prior_consent" in window.exceptions
    if honour_consent and _consented(ctx, ctx.at):
        return None

    not_before: datetime | None
    if honour_consent and ctx.facts.consumer.consented_times:

        def allowed(at: datetime) -> bool:
            return window_allows(at, zones, start, end) or _consented(ctx, at)

        marks = (start, end)
        extra = _consent_boundaries(ctx)
        not_before = next_instant(ctx.at, zones, allowed, marks, extra, _HORIZON_DAYS)
    else:
        not_before = next_window_start(ctx.at, zones, start, end)
    inputs = {
        "window": f"{start:%H:%M}-{end:%H:%M}",
        "candidate_zones": list(ctx.facts.zone_names),
        "local_times": _local_times(ctx, ctx.at),
    }
    if not_before is None:
        return ctx.block(
            rule_id,
            f"no instant within {_HORIZON_DAYS} days is inside {start:%H:%M}-{end:%H:%M} "
            "in every candidate time zone",
            **inputs,
        )
    inputs["local_times_at_not_before"] = _local_times(ctx, not_before)
    return ctx.defer(
        rule_id,
        not_before,
        f"outside {start:%H:%M}-{end:%H:%M} local time in at least one candidate zone",
        **inputs,
    )


def hours_fdcpa(ctx: RuleContext) -> RuleOutcome | None:
    """08:00 to before 21:00 at the consumer's location (1692c(a)(1); 1006.6(b)(1)(i))."""
    return _hours(ctx, "hours.fdcpa")


def fl_hours(ctx: RuleContext) -> RuleOutcome | None:
    """Florida: no sms/voice contact 21:00-08:00 in the debtor's time zone."""
    if ctx.facts.consumer.state != "FL":
        return None
    return _hours(ctx, "state.fl.hours")


def ok_prerecorded(ctx: RuleContext) -> RuleOutcome | None:
    """Oklahoma: prerecorded voice messages only 09:00-21:00."""
    if ctx.facts.consumer.state != "OK":
        return None
    return _hours(ctx, "state.ok.prerecorded")


def hours_fdcpa_close(ctx: RuleContext) -> datetime | None:
    return _hours_close(ctx, "hours.fdcpa")


def fl_hours_close(ctx: RuleContext) -> datetime | None:
    return _hours_close(ctx, "state.fl.hours") if ctx.facts.consumer.state == "FL" else None


def ok_prerecorded_close(ctx: RuleContext) -> datetime | None:
    if ctx.facts.consumer.state != "OK":
        return None
    return _hours_close(ctx, "state.ok.prerecorded")


def _covers(slot: InconvenientTime, local: datetime) -> bool:
    """Whether the consumer's inconvenient range covers this local wall time."""
    tod, weekday = local.time(), local.weekday()
    days = slot.weekdays
    if slot.start == slot.end:
        return not days or weekday in days
    if slot.start < slot.end:
        return slot.start <= tod < slot.end and (not days or weekday in days)
    if tod >= slot.start:  # the evening part of a range that wraps past midnight
        return not days or weekday in days
    if tod < slot.end:  # the morning part belongs to the range that began the day before
        return not days or (weekday - 1) % 7 in days
    return False


def _stated(ctx: RuleContext) -> list[InconvenientTime]:
    """The consumer's inconvenient times that concern this step (none: rule off)."""
    channel = ctx.step.channel
    slots = [
        s for s in ctx.facts.consumer.inconvenient_times if not s.channels or channel in s.channels
    ]
    if not slots or not _judged_now(ctx) or ctx.step.is_reply_to_consumer_initiated:
        return []
    return slots


def _convenient(ctx: RuleContext, slots: list[InconvenientTime]) -> Callable[[datetime], bool]:
    zones = ctx.facts.zones

    def allowed(at: datetime) -> bool:
        if _consented(ctx, at):
            return True
        for zone in zones:
            local = at.astimezone(zone)
            if any(_covers(slot, local) for slot in slots):
                return False
        return True

    return allowed


def _stated_marks(slots: list[InconvenientTime]) -> set[time]:
    marks: set[time] = {MIDNIGHT}
    for slot in slots:
        marks.update((slot.start, slot.end))
    return marks


def consumer_stated_close(ctx: RuleContext) -> datetime | None:
    """When the convenient time `ctx.at` is in ends (the consumer's next inconvenient
    time begins somewhere, or a consented time ends)."""
    slots = _stated(ctx)
    if not slots:
        return None
    extra = _consent_boundaries(ctx) + [c.end for c in ctx.facts.consumer.consented_times]
    closed = outside(_convenient(ctx, slots))
    return next_instant(ctx.at, ctx.facts.zones, closed, _stated_marks(slots), extra, _HORIZON_DAYS)


def hours_consumer_stated(ctx: RuleContext) -> RuleOutcome | None:
    """Times the consumer said are inconvenient (1006.6(b)(1)(i))."""
    slots = _stated(ctx)
    if not slots:
        return None
    zones = ctx.facts.zones
    allowed = _convenient(ctx, slots)
    if allowed(ctx.at):
        return None
    marks = _stated_marks(slots)
    not_before = next_instant(
        ctx.at, zones, allowed, marks, _consent_boundaries(ctx), _HORIZON_DAYS
    )
    stated = [f"{s.start:%H:%M}-{s.end:%H:%M}" for s in slots]
    if not_before is None:
        return ctx.block(
            "hours.consumer_stated",
            f"the consumer's inconvenient times leave no instant within {_HORIZON_DAYS} days",
            inconvenient=stated,
        )
    return ctx.defer(
        "hours.consumer_stated",
        not_before,
        "the consumer said this time is inconvenient",
        inconvenient=stated,
        local_times=_local_times(ctx, ctx.at),
    )
