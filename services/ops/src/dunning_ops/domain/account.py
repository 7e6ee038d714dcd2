"""The account page's view model: who, how much, what happened, and what the user may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dunning_ops.domain.actions import Action

PAUSED = "outreach_paused"  # the ledger's flag of an operator's pause


@dataclass(frozen=True)
class Entry:
    at_utc: str
    at_local: str
    kind: str
    summary: str
    by: str


@dataclass(frozen=True)
class AccountView:
    account_id: str
    name: str
    state: str
    status: str
    balance: str
    paid: str
    flags: tuple[str, ...]
    disputes: int
    zone: str
    paused: str | None  # the reason outreach is paused (an operator's), else None
    entries: tuple[Entry, ...]
    actions: tuple[Action, ...]
    ids: dict[str, str]  # action -> the idempotency id its form carries


def _amount(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('display', '?')} {value.get('currency', '')}".strip()
    return str(value)


def _moment(value: Any) -> str:
    return str(value or "").replace("T", " ")[:19]


def account_view(
    account: dict[str, Any],
    timeline: dict[str, Any],
    actions: tuple[Action, ...],
    ids: dict[str, str],
) -> AccountView:
    consumer = account.get("consumer", {})
    active = {str(f.get("flag")) for f in account.get("flags", []) if f.get("active")}
    pause = next(
        (f for f in account.get("flags", []) if f.get("flag") == PAUSED and f.get("active")),
        None,
    )
    entries = tuple(
        Entry(_moment(e.get("at_utc")), _moment(e.get("at_local")), str(e.get("kind", "")),
              str(e.get("summary", "")), str(e.get("by") or ""))
        for e in timeline.get("entries", [])
    )  # fmt: skip
    return AccountView(
        account_id=str(account["account_id"]),
        name=str(consumer.get("full_name", "")),
        state=str(consumer.get("state", "")),
        status=str(account.get("status", "")),
        balance=_amount(account.get("balance")),
        paid=_amount(account.get("paid")),
        flags=tuple(sorted(active - {PAUSED})),  # the pause has its own tile
        disputes=len(account.get("disputes", [])),
        zone=str(timeline.get("zone", "")),
        paused=None if pause is None else str(pause.get("detail") or "paused"),
        entries=entries,
        actions=actions,
        ids=ids,
    )


@dataclass(frozen=True)
class Verdict:
    """The gate's what-if answer, for the page."""

    channel: str
    action: str  # allow, defer, block, or "none" (no address on the channel)
    rules: tuple[str, ...]
    not_before: str
    explanations: tuple[str, ...]


def verdict(channel: str, decision: dict[str, Any] | None) -> Verdict:
    if decision is None:
        return Verdict(channel, "none", (), "", (f"the account has no {channel} address",))
    outcomes = decision.get("outcomes", []) or []
    return Verdict(
        channel=channel,
        action=str(decision.get("decision", "?")),
        rules=tuple(str(r) for r in decision.get("rule_ids", [])),
        not_before=_moment(decision.get("not_before")),
        explanations=tuple(f"{o.get('rule_id')}: {o.get('explanation', '')}" for o in outcomes),
    )
