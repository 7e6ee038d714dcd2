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

from collections.abc import Iterable
from datetime import datetime, timedelta

from dunning_gate.domain.context import Facts, RuleContext
from dunning_gate.domain.decision import RuleOutcome
from dunning_gate.domain.request import ContactAttempt
from dunning_gate.domain.time_windows import latest_day_start
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


def _cap(
    ctx: RuleContext,
    rule_id: RuleId,
    key: str,
    cap: Cap,
    attempts: Iterable[ContactAttempt],
) -> RuleOutcome | None:
    facts = ctx.facts
    at = ctx.at
    precomputed = facts.precomputed.get(key)
    if precomputed is not None:
        releases = sorted(r for r in precomputed.release_times if r > at)
    else:
        window = cap.window
        releases = sorted(
            r for r in (release_instant(a.at, window, facts) for a in attempts) if r > at
        )
    count = len(releases)
    ctx.count(key, count)
    if count < cap.max:
        return None
    window_text = f"{cap.max} per {cap.window.days} day(s)"
    if cap.max == 0:
        return ctx.block(rule_id, f"cap {key} is 0: the policy forbids this", count=count)
    return ctx.defer(
        rule_id,
        releases[count - cap.max],
        f"{count} counted attempt(s) already within the window ({window_text})",
        counter=key,
        count=count,
        cap=cap.max,
        window_days=cap.window.days,
        window_kind=cap.window.kind,
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


def _about_this_debt(attempt: ContactAttempt, debt_id: str) -> bool:
    return debt_id in attempt.debt_ids


def calls_7in7(ctx: RuleContext) -> RuleOutcome | None:
    """No more than 7 calls per debt in 7 consecutive days (1006.14(b)(2)(i)(A));
    one call about several debts counts for each; texts and emails do not count."""
    if ctx.step.channel not in CALL_CHANNELS:
        return None
    settings = ctx.policy.frequency.calls_7in7
    debt_id = ctx.step.debt_id
    counted = settings.counted_outcomes
    attempts = (
        a
        for a in ctx.facts.history.attempts
        if a.channel in CALL_CHANNELS and a.outcome in counted and _about_this_debt(a, debt_id)
    )
    return _cap(ctx, "frequency.calls_7in7", "frequency.calls_7in7", settings, attempts)


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
        if a.conversation and a.channel in CALL_CHANNELS and _about_this_debt(a, debt_id)
    ]
    if facts.history.last_conversation_at is not None:
        moments.append(facts.history.last_conversation_at)
    if not moments:
        return None
    last = max(moments)
    days = ctx.policy.frequency.calls_after_conversation.days
    free_from = latest_day_start(days, last, facts.zones)
    ctx.note("last_conversation_at", last.isoformat())
    if ctx.at < free_from:
        return ctx.defer(
            "frequency.calls_after_conversation",
            free_from,
            f"a telephone conversation took place within the last {days} days (its day = day 1)",
            last_conversation_at=last.isoformat(),
        )
    return None


def electronic(ctx: RuleContext) -> RuleOutcome | None:
    """Per-consumer, per-debt caps on texts and emails, per channel and across channels
    (1006.14(a), comment 14(a)-1.i). The earliest time that satisfies every cap wins."""
    channel = ctx.step.channel
    settings = ctx.policy.frequency.electronic
    caps = [cap for cap in settings.caps if channel in cap.channels]
    if not caps:
        return None
    attempts = ctx.facts.history.attempts
    debt_id = ctx.step.debt_id
    counted = settings.counted_outcomes
    worst: RuleOutcome | None = None
    for cap in caps:
        chosen = (
            a
            for a in attempts
            if a.channel in cap.channels
            and a.outcome in counted
            and (cap.scope == "consumer" or _about_this_debt(a, debt_id))
        )
        outcome = _cap(ctx, "frequency.electronic", f"frequency.electronic:{cap.name}", cap, chosen)
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
    attempts = (
        a
        for a in facts.history.attempts
        if a.collector_initiated
        and a.channel in settings.channels
        and a.outcome in counted
        and _about_this_debt(a, step.debt_id)
        and _phone_category(facts, a.destination) == category
    )
    return _cap(ctx, "state.ma.frequency", f"state.ma.frequency:{category}", cap, attempts)


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
    attempts = [
        a
        for a in facts.history.attempts
        if a.outcome in counted
        and (settings.scope == "consumer" or _about_this_debt(a, step.debt_id))
    ]
    key = "state.wa.frequency:all_contacts"
    outcome = _cap(ctx, "state.wa.frequency", key, settings.all_contacts, attempts)
    if facts.at_work(step.destination):
        at_work = _cap(
            ctx,
            "state.wa.frequency",
            "state.wa.frequency:at_work",
            settings.at_work,
            (a for a in attempts if _at_work(facts, a)),
        )
        outcome = _stricter(outcome, at_work)
    return outcome


def nyc_frequency(ctx: RuleContext) -> RuleOutcome | None:
    """New York City (behind a flag; numbers unconfirmed): at most 3 contacts or attempts
    per 7 days across all channels, per account."""
    settings = ctx.policy.states.nyc
    facts = ctx.facts
    if not settings.enabled or not facts.in_nyc:
        return None
    counted = settings.counted_outcomes
    attempts = (a for a in facts.history.attempts if a.outcome in counted)
    return _cap(ctx, "state.nyc.frequency", "state.nyc.frequency", settings.frequency, attempts)
