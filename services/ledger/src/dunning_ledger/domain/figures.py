"""The portfolio figures, assembled from grouped counts (pure).

Rates are per account: of the accounts the ledger has a delivery event for (messaged), the
share with at least one opt-out (``opted_out``, ``unsubscribed``), complaint
(``spam_reported``) or dispute (``disputed``) signal. A stage is the stage of an account's
latest logged step (the scheduler owns stages; an account with no logged step has none).

The promise-kept rate is of the promises whose date has passed (by the ledger's UTC date)
or that the ledger has already closed: the share that were kept. A promise recorded with an
amount (``POST /v1/accounts/{id}/promises``) is kept when the payments applied to it reach
that amount; a ``promised_to_pay`` signal (a reply, an agent, the portal) carries no amount,
so it is kept when any payment was received from the signal to the end of its promised
date (``details.date``); a signal without a date is not counted (nothing says when it falls
due). ``promises_judged`` and ``promises_kept`` give the counts; the rate is null when no
promise has come due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from dunning_ledger.domain.money import format_minor

NO_STAGE: Final = "none"
# The signal kinds behind each rate.
RATE_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "opt_out": ("opted_out", "unsubscribed"),
    "complaint": ("spam_reported",),
    "dispute": ("disputed",),
}
OMITTED: Final[dict[str, str]] = {}


@dataclass(frozen=True, slots=True)
class PromiseFacts:
    """One promise to pay, as the ledger holds it."""

    due_on: date | None  # None: a promised_to_pay signal without a date
    amount_minor: int | None  # None: no amount recorded (a signal): any payment keeps it
    paid_minor: int  # paid towards it by its date
    ended: bool = False  # the ledger already closed it (kept or broken)


def promise_kept(promise: PromiseFacts, today: date) -> bool | None:
    """Whether the promise was kept; None while it cannot be judged yet (or ever)."""
    if promise.due_on is None or (not promise.ended and promise.due_on >= today):
        return None
    if promise.amount_minor is None:
        return promise.paid_minor > 0
    return promise.paid_minor >= promise.amount_minor


def promised_date(raw: str | None) -> date | None:
    """A promised_to_pay signal's ``details.date`` (ISO, a time part ignored), else None."""
    try:
        return date.fromisoformat(raw[:10]) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class FigureCounts:
    accounts_by_status: Mapping[str, int] = field(default_factory=dict)
    accounts_by_stage: Mapping[str, int] = field(default_factory=dict)  # latest logged stage
    collected: Iterable[tuple[date, str, int, int]] = ()  # (day, currency, payments, minor)
    messages: Iterable[tuple[str, str, int]] = ()  # (channel, outcome, steps)
    rule_decisions: Iterable[tuple[str, str, int]] = ()  # (rule_id, action, decisions)
    messaged_accounts: int = 0
    rate_accounts: Mapping[str, int] = field(default_factory=dict)  # RATE_KINDS key -> accounts
    promises: Iterable[PromiseFacts] = ()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def build_figures(counts: FigureCounts, since: date, until: date) -> dict[str, Any]:
    messaged = counts.messaged_accounts
    messages: dict[str, dict[str, int]] = {}
    for channel, outcome, n in counts.messages:
        messages.setdefault(channel, {})[outcome] = n
    rules: dict[str, dict[str, int]] = {}
    for rule_id, action, n in counts.rule_decisions:
        rules.setdefault(rule_id, {})[action] = n
    judged = [k for k in (promise_kept(p, until) for p in counts.promises) if k is not None]
    return {
        "accounts_by_status": dict(counts.accounts_by_status),
        "accounts_by_stage": dict(counts.accounts_by_stage),
        "collected_per_day": [
            {
                "day": day.isoformat(),
                "currency": currency,
                "payments": payments,
                "amount": format_minor(minor, currency),
                "amount_minor": minor,
            }
            for day, currency, payments, minor in sorted(counts.collected)
        ],
        "collected_since": since.isoformat(),
        "collected_until": until.isoformat(),
        "messages_by_channel_and_outcome": messages,
        "decisions_by_rule": rules,
        "messaged_accounts": messaged,
        "accounts_with_signal": {k: counts.rate_accounts.get(k, 0) for k in RATE_KINDS},
        **{f"{k}_rate": _rate(counts.rate_accounts.get(k, 0), messaged) for k in RATE_KINDS},
        "promises_judged": len(judged),
        "promises_kept": sum(judged),
        "promise_kept_rate": _rate(sum(judged), len(judged)),
        "omitted": dict(OMITTED),
    }
