"""An account action's form, checked and turned into the ledger's request body (pure).

Each form carries an idempotency id made when the page was drawn (``fresh_id``), so a form
sent twice (a double click, a retry after a timeout) records once at the ledger (a pause and
a resume too). A note has
no id at the ledger: sent twice, it is written twice. Errors name the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from dunning_ops.domain.actions import Action

METHODS: Final = ("ach", "card", "check", "cash", "other")
FREQUENCIES: Final = ("weekly", "biweekly", "monthly")
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
LEDGER_PATH: Final = {
    Action.PAYMENT: "payments",
    Action.PLAN: "plans",
    Action.DISPUTE: "signals",
    Action.NOTE: "notes",
    Action.PAUSE: "pause",
    Action.RESUME: "resume",
}


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Request:
    path: str  # under /v1/accounts/{id}/
    body: dict[str, Any]


def _id(form: dict[str, str]) -> str:
    value = form.get("id", "").strip()
    if not _ID.match(value):
        raise FormError("id", "missing or malformed: reload the page")
    return value


def _text(form: dict[str, str], field: str, limit: int, required: bool = True) -> str | None:
    value = form.get(field, "").strip()
    if not value:
        if required:
            raise FormError(field, "is required")
        return None
    if len(value) > limit:
        raise FormError(field, f"is longer than {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise FormError(field, "holds control characters")
    return value


def _choice(form: dict[str, str], field: str, choices: tuple[str, ...]) -> str:
    value = form.get(field, "")
    if value not in choices:
        raise FormError(field, f"must be one of {', '.join(choices)}")
    return value


def amount(text: str) -> str:
    value = text.strip().replace(",", "")
    if not _AMOUNT.match(value):
        raise FormError("amount", "a positive amount such as 120.50")
    try:
        if Decimal(value) <= 0:
            raise FormError("amount", "must be more than zero")
    except InvalidOperation as exc:
        raise FormError("amount", "a positive amount such as 120.50") from exc
    return value


def request_for(action: Action, form: dict[str, str]) -> Request:
    path = LEDGER_PATH[action]
    if action is Action.PAYMENT:
        return Request(path, {
            "payment_id": _id(form),
            "amount": amount(form.get("amount", "")),
            "method": _choice(form, "method", METHODS),
            "source": "operator",
        })  # fmt: skip
    if action is Action.PLAN:
        try:
            count = int(form.get("count", ""))
        except ValueError as exc:
            raise FormError("count", "a whole number of installments") from exc
        if not 1 <= count <= 120:
            raise FormError("count", "between 1 and 120")
        try:
            first_due = date.fromisoformat(form.get("first_due", ""))
        except ValueError as exc:
            raise FormError("first_due", "a date such as 2026-04-01") from exc
        return Request(path, {
            "plan_id": _id(form),
            "frequency": _choice(form, "frequency", FREQUENCIES),
            "count": count,
            "first_due": first_due.isoformat(),
            "source": "operator",
        })  # fmt: skip
    if action is Action.DISPUTE:
        return Request(path, {
            "signal_id": _id(form),
            "kind": "disputed",
            "text": _text(form, "text", 2000, required=False),
        })  # fmt: skip
    if action is Action.PAUSE:
        return Request(path, {
            "pause_id": _id(form),
            "reason": _text(form, "reason", 500),
            "until": _until(form),
        })  # fmt: skip
    if action is Action.RESUME:
        return Request(path, {
            "resume_id": _id(form),
            "reason": _text(form, "reason", 500, required=False),
        })  # fmt: skip
    return Request(path, {"text": _text(form, "text", 4000)})


def _until(form: dict[str, str]) -> str | None:
    """An optional UTC date: the pause ends as that day begins (UTC)."""
    raw = form.get("until", "").strip()
    if not raw:
        return None
    try:
        return f"{date.fromisoformat(raw).isoformat()}T00:00:00+00:00"
    except ValueError as exc:
        raise FormError("until", "a date such as 2026-04-01, or nothing") from exc
