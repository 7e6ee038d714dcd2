"""The portfolio figures, assembled from grouped counts (pure).

Rates are per account: of the accounts the ledger has a delivery event for (messaged), the
share with at least one opt-out (``opted_out``, ``unsubscribed``), complaint
(``spam_reported``) or dispute (``disputed``) signal. A stage is the stage of an account's
latest logged step (the scheduler owns stages; an account with no logged step has none).

The promise-kept rate is left out: a promise is recorded as a ``promised_to_pay`` signal
whose contract carries no amount and no date, so whether it was kept cannot be judged.
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
OMITTED: Final = {
    "promise_kept_rate": "promises are promised_to_pay signals without an amount or a date "
    "in the contract, so whether one was kept cannot be judged"
}


@dataclass(frozen=True)
class FigureCounts:
    accounts_by_status: Mapping[str, int] = field(default_factory=dict)
    accounts_by_stage: Mapping[str, int] = field(default_factory=dict)  # latest logged stage
    collected: Iterable[tuple[date, str, int, int]] = ()  # (day, currency, payments, minor)
    messages: Iterable[tuple[str, str, int]] = ()  # (channel, outcome, steps)
    rule_decisions: Iterable[tuple[str, str, int]] = ()  # (rule_id, action, decisions)
    messaged_accounts: int = 0
    rate_accounts: Mapping[str, int] = field(default_factory=dict)  # RATE_KINDS key -> accounts


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
        "omitted": dict(OMITTED),
    }
