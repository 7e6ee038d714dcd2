"""The portfolio page: the ledger's figures (``GET /v1/portfolio/figures``) as charts and tiles.

Deliverability is, per channel, the share of messages handed to a provider that reached the
consumer: ``delivered`` over every final provider outcome (delivered, undelivered, failed,
bounced, dropped, rejected); messages still on their way (accepted, sent) and those the gate
held (block, defer, allow) are not counted. The promise-kept rate is the ledger's (kept over
the promises come due, as its figures endpoint defines it); the tile says of how many, and
when the ledger omits the figure the page says why instead of inventing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from dunning_ops.domain.charts import Chart, Series, grouped, single

STAGES: Final = ("friendly_reminder", "urgency", "formal_notice", "legal_warning", "none")
OUTCOMES: Final = (
    "delivered", "sent", "accepted", "undelivered", "failed", "bounced", "dropped",
    "rejected", "refused", "expired", "allow", "defer", "block",
)  # fmt: skip
REACHED: Final = "delivered"
NOT_REACHED: Final = frozenset({"undelivered", "failed", "bounced", "dropped", "rejected"})
RATES: Final = (("opt_out", "Opt-out"), ("complaint", "Complaint"), ("dispute", "Dispute"))


@dataclass(frozen=True)
class Tile:
    id: str
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class PortfolioView:
    tiles: tuple[Tile, ...]
    charts: tuple[Chart, ...]

    def json(self) -> dict[str, Any]:
        return {
            "tiles": [t.__dict__ for t in self.tiles],
            "charts": [c.json() for c in self.charts],
        }


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _ordered(counts: dict[str, int], order: tuple[str, ...]) -> dict[str, float]:
    keys = [k for k in order if k in counts] + sorted(set(counts) - set(order))
    return {k: float(counts[k]) for k in keys}


def deliverability(messages: dict[str, dict[str, int]]) -> dict[str, float | None]:
    """Per channel, delivered over every final provider outcome (None: no final outcome)."""
    rates: dict[str, float | None] = {}
    for channel, outcomes in sorted(messages.items()):
        reached = outcomes.get(REACHED, 0)
        final = reached + sum(n for o, n in outcomes.items() if o in NOT_REACHED)
        rates[channel] = round(reached / final, 4) if final else None
    return rates


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def collections(figures: dict[str, Any]) -> tuple[Chart, Chart]:
    """Amount collected (cumulative, per currency) and payments per day, every day of the
    window (days without a payment are zero)."""
    since = date.fromisoformat(figures["collected_since"])
    until = date.fromisoformat(figures["collected_until"])
    days = _days(since, until)
    by_day: dict[tuple[date, str], tuple[int, int]] = {}
    currencies: list[str] = []
    for row in figures.get("collected_per_day", []):
        day, currency = date.fromisoformat(row["day"]), str(row["currency"])
        by_day[(day, currency)] = (int(row["payments"]), int(row["amount_minor"]))
        if currency not in currencies:
            currencies.append(currency)
    labels = tuple(d.isoformat() for d in days)
    amounts, counts = [], []
    for currency in currencies or ["USD"]:
        running, cumulative, daily = 0, [], []
        for day in days:
            payments, minor = by_day.get((day, currency), (0, 0))
            running += minor
            cumulative.append(running / 100)
            daily.append(float(payments))
        amounts.append(Series(currency, tuple(cumulative)))
        counts.append(Series(currency, tuple(daily)))
    return (
        Chart("collected", "Amount collected (cumulative)", "line", labels, tuple(amounts),
              unit="major units"),
        Chart("payments", "Payments per day", "bar", labels, tuple(counts), stacked=True),
    )  # fmt: skip


def _promises_note(figures: dict[str, Any]) -> str:
    omitted: dict[str, str] = figures.get("omitted", {})
    if "promise_kept_rate" in omitted:
        return omitted["promise_kept_rate"]
    judged = figures.get("promises_judged")
    if judged is None:
        return ""
    if not judged:
        return "no promise has come due"
    return f"{figures.get('promises_kept', 0)} of {judged} promises come due"


def portfolio_view(figures: dict[str, Any]) -> PortfolioView:
    messages: dict[str, dict[str, int]] = figures.get("messages_by_channel_and_outcome", {})
    rules: dict[str, dict[str, int]] = figures.get("decisions_by_rule", {})
    delivery = deliverability(messages)
    kept = figures.get("promise_kept_rate")
    collected, payments = collections(figures)
    tiles = [
        Tile("accounts", "Accounts", str(sum(figures.get("accounts_by_status", {}).values()))),
        Tile("messaged", "Messaged accounts", str(figures.get("messaged_accounts", 0))),
        *(Tile(f"{k}_rate", f"{label} rate", _percent(figures.get(f"{k}_rate")),
               f"{figures.get('accounts_with_signal', {}).get(k, 0)} accounts")
          for k, label in RATES),
        *(Tile(f"deliverability_{c}", f"Deliverability {c}", _percent(r))
          for c, r in delivery.items()),
        Tile("promise_kept_rate", "Promise-kept rate", _percent(kept), _promises_note(figures)),
    ]  # fmt: skip
    charts = (
        single("stages", "Accounts by stage", "bar",
               _ordered(figures.get("accounts_by_stage", {}), STAGES), "accounts"),
        single("statuses", "Accounts by status", "bar",
               _ordered(figures.get("accounts_by_status", {}), ("open", "paid")), "accounts"),
        collected,
        payments,
        grouped("messages", "Messages by channel and outcome", "bar", messages, OUTCOMES),
        single("deliverability", "Deliverability by channel", "bar",
               {c: (r or 0.0) * 100 for c, r in delivery.items()}, "delivered %", unit="%"),
        single("rates", "Opt-out, complaint and dispute rates", "bar",
               {label: (figures.get(f"{k}_rate") or 0.0) * 100 for k, label in RATES},
               "% of messaged accounts", unit="%"),
        grouped("rules", "Gate decisions by rule id", "hbar",
                {r: {a: float(n) for a, n in acts.items()} for r, acts in sorted(rules.items())},
                ("block", "defer", "allow")),
    )  # fmt: skip
    return PortfolioView(tuple(tiles), charts)
