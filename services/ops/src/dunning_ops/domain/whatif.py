""" "May we text this person now?": the gate's what-if request built from the ledger's account.

The gate judges the step against the consumer's contact points, flags, disputes and earlier
attempts as the ledger holds them, at ``now``. The message is a placeholder (the gate vets
timing, consent, caps and flags here, not the wording); nothing is sent or recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

FLAG_FIELDS: Final = {
    "cease_requested": "cease_requested",
    "attorney_represented": "attorney_represented",
    "bankruptcy_filed": "bankruptcy_filed",
    "deceased": "deceased",
    "outreach_paused": "outreach_paused",
}
ATTEMPT_OUTCOMES: Final = {
    "delivered": "delivered", "sent": "sent", "accepted": "sent", "failed": "failed",
    "undelivered": "failed", "bounced": "bounced",
}  # fmt: skip
PLACEHOLDER: Final = "What-if from the operations dashboard: timing and consent only."


def _phones(consumer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in {
            "number": p.get("number"),
            "line_type": p.get("kind", "mobile"),
            "consent": p.get("consent", "none"),
            "basis": p.get("basis", "none"),
            "basis_on": p.get("basis_on"),
            "reassigned_checked_on": p.get("reassigned_checked_on"),
        }.items() if v is not None}
        for p in consumer.get("phones", [])
    ]  # fmt: skip


def _emails(consumer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in {
            "address": e.get("address"),
            "basis": e.get("basis", "none"),
            "basis_on": e.get("basis_on"),
            "workplace": e.get("workplace", False),
        }.items() if v is not None}
        for e in consumer.get("emails", [])
    ]  # fmt: skip


def _opt_outs(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Active opt-out flags: scope ``all``, ``channel:<c>`` or the address itself."""
    found = []
    for f in flags:
        if f.get("flag") != "opted_out" or not f.get("active"):
            continue
        scope = str(f.get("scope", "all"))
        if scope == "all":
            found.append({"source": "operator"})
        elif scope.startswith("channel:"):
            found.append({"channel": scope.removeprefix("channel:"), "source": "operator"})
        else:
            found.append({"address": scope, "source": "operator"})
    return found


def _attempts(steps: list[dict[str, Any]], debt_id: str) -> list[dict[str, Any]]:
    attempts = []
    for s in steps:
        delivery = s.get("delivery") or {}
        status = delivery.get("status") or ""
        at = delivery.get("sent_at") or delivery.get("accepted_at") or s.get("decided_at")
        if status in ATTEMPT_OUTCOMES and at and s.get("destination"):
            attempts.append({
                "at": at, "channel": s["channel"], "debt_ids": [debt_id],
                "destination": s["destination"], "outcome": ATTEMPT_OUTCOMES[status],
            })  # fmt: skip
    return attempts


def evaluation(
    account: dict[str, Any], steps: list[dict[str, Any]], channel: str, now: datetime
) -> dict[str, Any] | None:
    """The gate's request for a ``channel`` step to this account now; None when the account
    has no address on that channel (nothing to ask: the answer is no)."""
    consumer, debt = account.get("consumer", {}), account.get("debt", {})
    phones, emails = _phones(consumer), _emails(consumer)
    destinations = (
        [p["number"] for p in phones] if channel == "sms" else [e["address"] for e in emails]
    )
    if not destinations:
        return None
    flags = {f.get("flag") for f in account.get("flags", []) if f.get("active")}
    debt_id = str(debt.get("debt_id") or account["account_id"])
    return {
        "now": now.isoformat(),
        "step": {
            "step_id": f"whatif-{account['account_id']}-{channel}",
            "account_id": account["account_id"],
            "debt_id": debt_id,
            "channel": channel,
            "stage": "friendly_reminder",
            "attempt": 1,
            "destination": destinations[0],
            "content": {
                "body": PLACEHOLDER,
                **({"subject": "What-if"} if channel == "email" else {}),
            },
            "content_hash": "whatif",
        },
        "consumer": {
            "state": consumer.get("state"),
            "zip": consumer.get("zip_code"),
            "phones": phones,
            "emails": emails,
            "nyc_electronic_consent": bool(consumer.get("nyc_electronic_consent", False)),
            "opt_outs": _opt_outs(account.get("flags", [])),
            **{field: kind in flags for kind, field in FLAG_FIELDS.items()},
        },
        "debt": {
            "debt_id": debt_id,
            "creditor": debt.get("creditor") or "unknown",
            "collector_type": "creditor"
            if debt.get("collector_type") == "first_party"
            else "third_party_collector",
            "medical": bool(debt.get("medical", False)),
            "legal_action_authorized": bool(debt.get("legal_action_authorized", False)),
            "limitation_date": debt.get("limitation_date"),
            "validation_notice_sent_at": debt.get("validation_notice_sent_at"),
            "disputes": [
                {
                    "status": "verified" if d.get("verified_at") else "pending",
                    "received_at": d.get("opened_at") or now.isoformat(),
                }
                for d in account.get("disputes", [])
            ],
        },
        "history": {"attempts": _attempts(steps, debt_id)},
    }
