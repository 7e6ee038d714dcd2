"""An account's story as entries in time order, each saying what, who and when (pure).

The use case reads the rows; this module words them. Each recorded event is read back
through its contract (``StepDecided``, ``DeliveryUpdated``, ``ConsumerSignaled``). Times are
kept in UTC and shown also in the consumer's zone: the first of the consumer's time zones
when the account carries them, else the principal zone of the address's state.

Each decision carries the message the gate vetted (subject and body, whole): the text a
worker sends once the step is allowed, since a worker refuses content whose hash differs
from the approval's ``content_hash``. The entry says whether the recorded text matches that
hash. Decisions recorded before gates sent the content show only the hash. An inbound
reply's entry carries its text and the classifier's intent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryUpdated,
    SignalKind,
    StepDecided,
)

EntryKind = Literal[
    "account",
    "change",
    "decision",
    "delivery",
    "signal",
    "payment",
    "reversal",
    "credit",
    "installment",
    "plan",
    "promise",
    "settlement",
    "note",
    "task",
]  # in the order of entries at one instant
KINDS: Final[tuple[str, ...]] = get_args(EntryKind)

MESSAGE_BODIES: Final = (
    "Each gate decision shows the message it vetted (subject and body, whole): the text "
    "sent when the step was allowed, as a worker sends only content matching the "
    "decision's content_hash. Decisions recorded before gates sent the text show only "
    "content_hash. Replies show the consumer's text and the intent read in it."
)

# The zone most of each state's people live in (states spanning two zones: the larger).
STATE_ZONES: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("CT", "DE", "DC", "FL", "GA", "IN", "KY", "ME", "MD", "MA", "MI", "NH", "NJ",
         "NY", "NC", "OH", "PA", "RI", "SC", "VT", "VA", "WV"), "America/New_York"),
    **dict.fromkeys(
        ("AL", "AR", "IL", "IA", "KS", "LA", "MN", "MS", "MO", "NE", "ND", "OK", "SD",
         "TN", "TX", "WI"), "America/Chicago"),
    **dict.fromkeys(("CO", "ID", "MT", "NM", "UT", "WY"), "America/Denver"),
    "AZ": "America/Phoenix", "CA": "America/Los_Angeles", "NV": "America/Los_Angeles",
    "OR": "America/Los_Angeles", "WA": "America/Los_Angeles", "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu", "PR": "America/Puerto_Rico", "VI": "America/St_Thomas",
    "GU": "Pacific/Guam", "MP": "Pacific/Saipan", "AS": "Pacific/Pago_Pago",
    "UM": "Pacific/Wake",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    basis: str  # why this zone

    @classmethod
    def of(cls, time_zones: Sequence[str], state: str) -> Zone:
        if time_zones:
            return cls(time_zones[0], "the first of the consumer's time zones")
        if state in STATE_ZONES:
            return cls(STATE_ZONES[state], f"the principal zone of {state}")
        return cls("UTC", f"no zone known for {state!r}")


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    kind: EntryKind
    summary: str
    by: str | None = None  # the API key's principal, or the service that sent the event
    step_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    seq: int = 0  # the order recorded, when two entries share an instant
    text: str | None = None  # the words: a step's message body, a reply, a note
    subject: str | None = None  # an e-mail step's subject

    def local(self, zone: Zone) -> datetime:
        return self.at.astimezone(ZoneInfo(zone.name))


def decision_entry(e: StepDecided, source: str) -> Entry:
    rules = [
        {"rule_id": f.rule_id, "action": f.action, "explanation": f.explanation} for f in e.findings
    ]
    why = "; ".join(f"{r['rule_id']}: {r['explanation']}" for r in rules)
    content = e.content
    message = None
    if content is not None:
        message = {
            "subject": content.subject, "body": content.body, "locale": content.locale,
            "matches_content_hash": content.content_hash() == e.content_hash,
        }  # fmt: skip
    return Entry(
        e.decided_at,
        "decision",
        f"gate {e.decision.value}: {e.stage.value} by {e.channel.value}, attempt {e.attempt}"
        + (f" ({why})" if why else ""),
        by=source,
        step_id=e.step_id,
        details={
            "decision": e.decision.value, "stage": e.stage.value, "channel": e.channel.value,
            "attempt": e.attempt, "destination": e.destination, "rules": rules,
            "not_before": e.not_before, "policy_version": e.policy_version,
            "content_hash": e.content_hash, "message": message,
        },
        text=content.body if content else None,
        subject=content.subject if content else None,
    )  # fmt: skip


def delivery_entry(e: DeliveryUpdated, source: str) -> Entry:
    error = f" ({e.error_code}{': ' + e.detail if e.detail else ''})" if e.error_code else ""
    return Entry(
        e.occurred_at,
        "delivery",
        f"{e.channel.value} {e.status.value} via {e.provider}{error}",
        by=source,
        step_id=e.step_id,
        details={
            "status": e.status.value, "channel": e.channel.value, "provider": e.provider,
            "provider_message_id": e.provider_message_id, "error_code": e.error_code,
            "detail": e.detail,
        },
    )  # fmt: skip


def _paused_or_resumed(e: ConsumerSignaled, by: str) -> str:
    verb = "paused" if e.kind is SignalKind.OUTREACH_PAUSED else "resumed"
    until = e.details.get("until")
    return (
        f"outreach {verb} by {by}"
        + (f" until {until}" if until else "")
        + (f": {e.text}" if e.text else "")
    )


def signal_entry(e: ConsumerSignaled, recorded_by: str | None, source: str) -> Entry:
    via = f" by {e.channel.value}" if e.channel else ""
    intent = e.details.get("intent")
    summary = (
        _paused_or_resumed(e, recorded_by or "the ledger")
        if e.kind in (SignalKind.OUTREACH_PAUSED, SignalKind.OUTREACH_RESUMED)
        else f"{e.kind.value.replace('_', ' ')}{via} ({e.source})"
        + (f", intent {intent}" if intent else "")
    )
    return Entry(
        e.occurred_at,
        "signal",
        summary,
        by=recorded_by or source,
        details={
            "kind": e.kind.value, "source": e.source, "channel": e.channel and e.channel.value,
            "address": e.address, "debt_id": e.debt_id, "text": e.text,
            "intent": intent, "signal_details": dict(e.details),
        },
        text=e.text,
    )  # fmt: skip


def payment_entry(at: datetime, amount: str, method: str, remaining: str, by: str | None) -> Entry:
    return Entry(
        at,
        "payment",
        f"payment of {amount} by {method}; balance {remaining}",
        by=by,
        details={"amount": amount, "method": method, "remaining_balance": remaining},
    )


def plan_entry(
    at: datetime, instalment: str, instalments: int, first_due: date, by: str | None
) -> Entry:
    return Entry(
        at,
        "plan",
        f"plan agreed: {instalments} x {instalment} from {first_due.isoformat()}",
        by=by,
        details={"instalment": instalment, "instalments": instalments, "first_due": first_due},
    )


def change_entry(
    at: datetime, revision: int, changed: Sequence[str], after: dict[str, Any], by: str | None
) -> Entry:
    return Entry(
        at,
        "change",
        f"account changed (revision {revision}): {', '.join(changed)}",
        by=by,
        details={"revision": revision, "changed": list(changed), "after": after},
    )


def note_entry(at: datetime, text: str, by: str | None) -> Entry:
    return Entry(at, "note", text, by=by, details={"text": text}, text=text)


def task_entry(
    at: datetime, task_id: str, action: str, by: str, note: str | None, seq: int = 0
) -> Entry:
    """A change of an agent task: created, claimed, renewed, released, lapsed, completed."""
    summary = f"task {task_id} {action.replace('_', ' ')}" + (f": {note}" if note else "")
    details = {"task_id": task_id, "action": action, "note": note}
    return Entry(at, "task", summary, by=by, details=details, seq=seq)


def in_order(entries: Iterable[Entry]) -> list[Entry]:
    """By time, then the order recorded (a decision before the delivery it allowed)."""
    return sorted(entries, key=lambda e: (e.at, KINDS.index(e.kind), e.seq))
