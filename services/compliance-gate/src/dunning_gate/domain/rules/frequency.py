"""Frequency rules: federal call caps, electronic caps, Massachusetts, Washington, NYC.

All defer "until the window frees". Each counted attempt has a release instant, when it
leaves the window (`rolling`: N x 24 h after it; `calendar_days`: the latest local
midnight N days after its local date). At instant t an attempt counts while t < its
release; with `count >= max`, the step may go once `count - max + 1` attempts have left,
i.e. at the (count - max + 1)-th earliest release.

Callers that keep counters themselves (Redis sorted sets) pass, per counter key, the
release instants (`History.precomputed`); keys are listed by `counter_keys`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, timedelta

from dunning_core.time_windows import earliest_day_end, latest_day_start

from dunning_gate.domain.context import Facts, RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.request import ContactAttempt
from dunning_gate.policy.model import Cap, Policy, Window
from dunning_gate.policy.vocabulary import CALL_CHANNELS, RuleId

_HOME_OR_MOBILE = frozenset({"home", "mobile"})


def counter_keys(policy: Policy) -> tuple[str, ...]:
    """Keys under which callers may pass precomputed release instants."""
    caps = policy.frequency.electronic.caps
    electronic = tuple(f"frequency.electronic:{cap.name}" for cap in caps)
    return (
        "frequency.calls_7in7",
        *electronic,
        "state.ma.frequency:home_or_mobile",
        "state.ma.frequency:other",
        "state.wa.frequency:all_contacts",
        "state.wa.frequency:at_work",
        "state.nyc.frequency",
    )


def release_instant(at: datetime, window: Window, facts: Facts) -> datetime:
    """When an attempt made at `at` stops counting in `window`."""
    if window.kind == "rolling":
        return at + timedelta(days=window.days)
    return latest_day_start(window.days, at, facts.zones)


def _instants(
    ctx: RuleContext, key: object, select: Callable[[ContactAttempt], bool]
) -> list[datetime]:
    """Sorted instants of the attempts `select` keeps (cached across instants judged)."""
    cache = ctx.facts.instants
    found = cache.get(key)
    if found is None:
        found = sorted(a.at for a in ctx.facts.history.attempts if select(a))
        cache[key] = found
    return found


def _releases(
    ctx: RuleContext, key: str, window: Window, instants: list[datetime]
) -> list[datetime]:
    """Release instants still ahead of the instant judged, earliest first."""
    at = ctx.at
    facts = ctx.facts
    precomputed = facts.precomputed.get(key) if facts.history.precomputed else None
    if precomputed is not None:
        return sorted(r for r in precomputed.release_times if r > at)
    if window.kind == "rolling":
        span = window.span
        return [t + span for t in instants[bisect_right(instants, at - span) :]]
    return sorted(r for r in (release_instant(t, window, facts) for t in instants) if r > at)


def _cap(
    ctx: RuleContext,
    rule_id: RuleId,
    key: str,
    cap: Cap,
    instants: list[datetime],
) -> RuleOutcome | None:
    window = cap.window
    if window.kind == "rolling" and not ctx.facts.history.precomputed:
        # Hot path: count by bisection; build the release list only when over the cap.
        first = bisect_right(instants, ctx.at - window.span)
        count = len(instants) - first
        ctx.count(key, count)
        if count < cap.max:
            return None
        releases = [t + window.span for t in instants[first:]]
    else:
        releases = _releases(ctx, key, window, instants)
        count = len(releases)
        ctx.count(key, count)
        if count < cap.max:
            if window.kind == "calendar_days":
                # Counted on today's local date: sent tomorrow, it would count in a
                # window this check never saw.
                ctx.relies_until(earliest_day_end(ctx.at, ctx.facts.zones))
            return None
    if cap.max == 0:
        return ctx.block(rule_id, f"cap {key} is 0: the policy forbids this", count=count)
    return ctx.defer(
        rule_id,
        releases[count - cap.max],
        f"{count} counted attempt(s) already within the window "
        f"({cap.max} per {window.days} day(s))",
        counter=key,
        count=count,
        cap=cap.max,
        window_days=window.days,
        window_kind=window.kind,
    )


def _stricter(a: RuleOutcome | None, b: RuleOutcome | None) -> RuleOutcome | None:
    """A block over a defer; of two defers, the later."""
    if a is None or b is None:
        return a or b
    if a.action == "block" or b.action == "block":
        return a if a.action == "block" else b
    assert a.not_before is not None
    assert b.not_before is not None
    return b if b.not_before > a.not_before else a


def calls_7in7(ctx: RuleContext) -> RuleOutcome | None:
    """No more than 7 calls per debt in 7 consecutive days (1006.14(b)(2)(i)(A));
    one call about several debts counts for each; texts and emails do not count."""
    if ctx.step.channel not in CALL_CHANNELS:
        return None
    settings = ctx.policy.frequency.calls_7in7
    debt_id = ctx.step.debt_id
    counted = settings.counted_outcomes
    instants = _instants(
        ctx,
        "calls",
        lambda a: a.channel in CALL_CHANNELS and a.outcome in counted and debt_id in a.debt_ids,
    )
    return _cap(ctx, "frequency.calls_7in7", "frequency.calls_7in7", settings, instants)


def calls_after_conversation(ctx: RuleContext) -> RuleOutcome | None:
    """No call within 7 days after a telephone conversation about the debt; the
    conversation's day is day 1, so the next call may be on day 8 (1006.14(b)(2)(i)(B))."""
    if ctx.step.channel not in CALL_CHANNELS:
        return None
    facts = ctx.facts
    debt_id = ctx.step.debt_id
    moments = [
        a.at
        for a in facts.history.attempts
        if a.conversation and a.channel in CALL_CHANNELS and debt_id in a.debt_ids
    ]
    if facts.history.last_conversation_at is not None:
        moments.append(facts.history.last_conversation_at)
    if not moments:
        return None
    last = max(moments)
    days = ctx.policy.frequency.calls_after_conversation.days
    free_from = latest_day_start(days, last, facts.zones)
    ctx.note("last_conversation_at", last)
    if ctx.at < free_from:
        return ctx.defer(
            "frequency.calls_after_conversation",
            free_from,
            f"a telephone conversation took place within the last {days} days (its day = day 1)",
            last_conversation_at=last,
        )
    return None


def electronic(ctx: RuleContext) -> RuleOutcome | None:
    """Per-consumer, per-debt caps on texts and emails, per channel and across channels
    (1006.14(a), comment 14(a)-1.i). The earliest time that satisfies every cap wins."""
    settings = ctx.policy.frequency.electronic
    caps = settings.caps_by_channel[ctx.step.channel]
    if not caps:
        return None
    debt_id = ctx.step.debt_id
    counted = settings.counted_outcomes
    cache = ctx.facts.instants
    attempts = ctx.facts.history.attempts
    precomputed = ctx.facts.history.precomputed
    at = ctx.at
    worst: RuleOutcome | None = None
    for cap in caps:
        group = (cap.channels, cap.scope)
        instants = cache.get(group)
        if instants is None:
            channels, per_consumer = cap.channels, cap.scope == "consumer"
            instants = cache[group] = []
            for a in attempts:
                if (
                    a.channel in channels
                    and a.outcome in counted
                    and (per_consumer or debt_id in a.debt_ids)
                ):
                    instants.append(a.at)
            instants.sort()
        window = cap.window
        if not precomputed and window.kind == "rolling":
            # Inline hot path of `_cap`: most steps are far below every cap.
            count = len(instants) - bisect_right(instants, at - window.span)
            if count < cap.max:
                ctx.count(cap.counter_key, count)
                continue
        outcome = _cap(ctx, "frequency.electronic", cap.counter_key, cap, instants)
        if outcome is not None:
            worst = _stricter(worst, outcome)
    return worst


def _phone_category(facts: Facts, number: str) -> str:
    """Massachusetts distinguishes home/mobile numbers from all others (unknown = other)."""
    return "home_or_mobile" if facts.line_types.get(number) in _HOME_OR_MOBILE else "other"


def ma_frequency(ctx: RuleContext) -> RuleOutcome | None:
    """Massachusetts, per debt: collector-initiated calls/texts, at most 2 per 7 days to
    home or mobile and 2 per 30 days to other numbers; voicemail counts."""
    facts = ctx.facts
    settings = ctx.policy.states.ma
    step = ctx.step
    if (
        facts.consumer.state != "MA"
        or step.channel not in settings.channels
        or step.is_reply_to_consumer_initiated
    ):
        return None
    category = _phone_category(facts, step.destination)
    cap = settings.home_or_mobile if category == "home_or_mobile" else settings.other
    counted = settings.counted_outcomes
    instants = _instants(
        ctx,
        ("ma", category),
        lambda a: (
            a.collector_initiated
            and a.channel in settings.channels
            and a.outcome in counted
            and step.debt_id in a.debt_ids
            and _phone_category(facts, a.destination) == category
        ),
    )
    return _cap(ctx, "state.ma.frequency", f"state.ma.frequency:{category}", cap, instants)


def _at_work(facts: Facts, attempt: ContactAttempt) -> bool:
    return attempt.at_work if attempt.at_work is not None else facts.at_work(attempt.destination)


def wa_frequency(ctx: RuleContext) -> RuleOutcome | None:
    """Washington: at most 3 contacts a week, and 1 a week at the place of employment."""
    facts = ctx.facts
    if facts.consumer.state != "WA":
        return None
    settings = ctx.policy.states.wa
    step = ctx.step
    counted = settings.counted_outcomes
    per_consumer = settings.scope == "consumer"

    def chosen(a: ContactAttempt) -> bool:
        return a.outcome in counted and (per_consumer or step.debt_id in a.debt_ids)

    key = "state.wa.frequency:all_contacts"
    outcome = _cap(
        ctx, "state.wa.frequency", key, settings.all_contacts, _instants(ctx, ("wa",), chosen)
    )
    if facts.at_work(step.destination):
        at_work = _cap(
            ctx,
            "state.wa.frequency",
            "state.wa.frequency:at_work",
            settings.at_work,
            _instants(ctx, ("wa", "work"), lambda a: chosen(a) and _at_work(facts, a)),
        )
        outcome = _stricter(outcome, at_work)
    return outcome


def nyc_frequency(ctx: RuleContext) -> RuleOutcome | None:
    """New York City (6 RCNY 5-77 as amended): at most 3 contacts or attempts per 7 days
    across all channels, per account (every debt's attempts count)."""
    settings = ctx.policy.states.nyc
    facts = ctx.facts
    if not settings.enabled or not facts.nyc_rules_apply(ctx.at):
        return None
    counted = settings.counted_outcomes
    instants = _instants(ctx, ("nyc",), lambda a: a.outcome in counted)
    return _cap(ctx, "state.nyc.frequency", "state.nyc.frequency", settings.frequency, instants)
