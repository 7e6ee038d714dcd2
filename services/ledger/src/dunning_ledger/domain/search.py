"""Searching accounts (pure): the filters, their normalisation, and the opaque page cursor.

Results come in ``account_id`` order (unique, so paging is stable while accounts are added:
a page never repeats or skips an account that existed when the first page was read). The
cursor is the last ``account_id`` of a page, versioned and base64url-encoded; callers treat
it as opaque.

What the ledger does not know, it does not pretend to: the import has no external reference
column, so there is no such filter; the scheduler owns an account's stage, so ``stage``
matches the stage of the account's most recent step in the ledger's communication log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import phonenumbers

from dunning_ledger.domain import cursors, import_format
from dunning_ledger.domain.money import MoneyError, parse_minor

MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 50


class SearchError(ValueError):
    """A filter or cursor that can never match; ``field`` names the query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """Normalised filters (all optional, combined with AND) and the page wanted."""

    account_id: str | None = None
    name: str | None = None  # case-insensitive, anywhere in the full name
    phone: str | None = None  # E.164
    email: str | None = None  # lower case
    state: str | None = None
    status: str | None = None
    stage: str | None = None
    currency: str | None = None  # set when a balance bound is
    balance_min_minor: int | None = None
    balance_max_minor: int | None = None
    due_on_or_before: date | None = None  # from days_past_due_min
    due_on_or_after: date | None = None  # from days_past_due_max
    after: str | None = None  # the cursor's account_id
    limit: int = DEFAULT_LIMIT


def encode_cursor(account_id: str) -> str:
    return cursors.pack({"after": account_id})


def decode_cursor(cursor: str) -> str:
    """The account_id a cursor continues after; ``SearchError`` when it is not ours."""
    after = cursors.unpack(cursor).get("after")
    if not isinstance(after, str) or not import_format.IDENTIFIER.match(after):
        raise SearchError("cursor", cursors.NOT_OURS)
    return after


def normalise_phone(text: str) -> str:
    """E.164 (default region US), as phone numbers are stored by the import."""
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise SearchError("phone", f"{text!r} is not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def due_bounds(
    today: date, days_min: int | None, days_max: int | None
) -> tuple[date | None, date | None]:
    """Due dates for a days-past-due range: ``(due on or before, due on or after)``.

    An account is ``today - due_date`` days past due (negative before its due date).
    """
    if days_min is not None and days_max is not None and days_min > days_max:
        raise SearchError("days_past_due_min", "days_past_due_min is above days_past_due_max")
    before = None if days_min is None else today - timedelta(days=days_min)
    after = None if days_max is None else today - timedelta(days=days_max)
    return before, after


def days_past_due(today: date, due_date: date) -> int:
    return (today - due_date).days


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """The filters as a caller sends them (query parameters), before normalisation."""

    account_id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    state: str | None = None
    status: str | None = None
    stage: str | None = None
    balance_min: str | None = None  # decimal, major units of ``currency``
    balance_max: str | None = None
    currency: str = "USD"
    days_past_due_min: int | None = None
    days_past_due_max: int | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def _minor(text: str | None, currency: str, field: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_minor(text, currency)
    except MoneyError as exc:
        raise SearchError(field, str(exc)) from None


def _email(text: str) -> str:
    # The import keeps an address as pydantic normalises it: the domain in lower case.
    local, at, domain = text.strip().rpartition("@")
    if not at or not local or not domain:
        raise SearchError("email", f"{text!r} is not an email address")
    return f"{local}@{domain.lower()}"


def build_query(filters: SearchFilters, today: date) -> AccountQuery:
    """The normalised query; ``SearchError`` names the parameter that can never match."""
    f = filters
    if not 1 <= f.limit <= MAX_LIMIT:
        raise SearchError("limit", f"limit is 1 to {MAX_LIMIT}")
    currency = f.currency.strip().upper()
    balance_min = _minor(f.balance_min, currency, "balance_min")
    balance_max = _minor(f.balance_max, currency, "balance_max")
    if balance_min is not None and balance_max is not None and balance_min > balance_max:
        raise SearchError("balance_min", "balance_min is above balance_max")
    before, after = due_bounds(today, f.days_past_due_min, f.days_past_due_max)
    name = f.name.strip().lower() if f.name is not None else None
    return AccountQuery(
        account_id=f.account_id,
        name=name or None,
        phone=None if f.phone is None else normalise_phone(f.phone),
        email=None if f.email is None else _email(f.email),
        state=None if f.state is None else f.state.strip().upper(),
        status=f.status,
        stage=f.stage,
        currency=currency if balance_min is not None or balance_max is not None else None,
        balance_min_minor=balance_min,
        balance_max_minor=balance_max,
        due_on_or_before=before,
        due_on_or_after=after,
        after=None if f.cursor is None else decode_cursor(f.cursor),
        limit=f.limit,
    )
