"""Validating an account import, row by row, before anything is written (pure).

The format (columns, values, row numbering) is described in ``import_format``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from dunning_core.contracts.common import Money
from dunning_core.contracts.events import (
    AddressBasis,
    Consumer,
    Debt,
    EmailContact,
    PhoneConsent,
    PhoneContact,
)
from pydantic import ValidationError

from dunning_ledger.domain.import_fast import fast_json, fast_values, fingerprint, opened_id
from dunning_ledger.domain.import_format import (
    COLUMNS,
    FALSE_WORDS,
    IDENTIFIER,
    PHONE_KINDS,
    TRUE_WORDS,
    RawRow,
    RowError,
    parse_date,
    parse_instant,
    parse_phone,
    read_csv,
    read_json_rows,
)
from dunning_ledger.domain.import_itemization import read_itemization
from dunning_ledger.domain.money import CURRENCY_EXPONENTS, MoneyError, parse_minor
from dunning_ledger.domain.regions import US_REGIONS

_ZIP = re.compile(r"^(\d{5})(-\d{4})?$")
_LOCALE = re.compile(r"^([a-z]{2,3})(?:[_-]([A-Z]{2}))?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ImportedAccount(NamedTuple):
    """A valid row: the account's consumer and debt (balance as imported) as the JSON the
    models write, what staging needs of them, a fingerprint of both, and the id its
    ``AccountOpened`` carries should it be new. A tuple in the staging table's column
    order: it is COPYed as it is, and crosses between processes cheaply.

    ``consumer`` and ``debt`` rebuild the models from the JSON (for the few rows that need
    them: an account whose payments moved its balance); a million rows never build them.
    """

    row: int
    line: int | None
    account_id: str
    debt_id: str
    currency: str
    balance_minor: int
    consumer_json: str
    debt_json: str
    fingerprint: str
    opened_id: str

    @property
    def consumer(self) -> Consumer:
        return Consumer.model_validate_json(self.consumer_json)

    @property
    def debt(self) -> Debt:
        return Debt.model_validate_json(self.debt_json)

    @classmethod
    def of(
        cls, row: int, line: int | None, account_id: str, consumer_json: str, debt_json: str,
        debt_id: str, currency: str, balance_minor: int,
    ) -> ImportedAccount:  # fmt: skip
        """The account of a row, its fingerprint and event id derived."""
        return cls(
            row, line, account_id, debt_id, currency, balance_minor, consumer_json, debt_json,
            fingerprint(consumer_json, debt_json), opened_id(account_id),
        )  # fmt: skip


@dataclass(frozen=True)
class ValidatedImport:
    accounts: tuple[ImportedAccount, ...] = ()
    errors: tuple[RowError, ...] = ()
    received: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


# --- validating -----------------------------------------------------------------------


def validate_rows(rows: Sequence[RawRow], prior_errors: Iterable[RowError] = ()) -> ValidatedImport:
    """Every row checked; the import is valid only if no row has an error."""
    errors = list(prior_errors)
    accounts: list[ImportedAccount] = []
    first_row_of: dict[str, int] = {}
    first_row_of_debt: dict[str, int] = {}
    for raw in rows:
        account, row_errors = validate_row(raw)
        if account is not None:
            earlier = first_row_of.setdefault(account.account_id, raw.row)
            if earlier != raw.row:
                row_errors.append(
                    RowError(raw.row, "account_id", f"duplicate of row {earlier}", raw.line)
                )
                account = None
        if account is not None:
            earlier = first_row_of_debt.setdefault(account.debt_id, raw.row)
            if earlier != raw.row:
                message = f"debt_id is already the debt of row {earlier}"
                row_errors.append(RowError(raw.row, "debt_id", message, raw.line))
                account = None
        errors.extend(row_errors)
        if account is not None:
            accounts.append(account)
    received = max((r.row for r in rows), default=0)
    received = max(received, max((e.row for e in errors), default=0))
    if errors:
        errors.sort(key=error_order)
        return ValidatedImport(errors=tuple(errors), received=received)
    return ValidatedImport(accounts=tuple(accounts), received=received)


def error_order(error: RowError) -> tuple[int, int]:
    """Errors by row, then by column in the format's order."""
    return error.row, COLUMNS.index(error.field) if error.field in COLUMNS else -1


def validate_csv(data: bytes | str) -> ValidatedImport:
    table = read_csv(data)
    return validate_rows(table.rows, table.errors)


def validate_json(items: Sequence[Any]) -> ValidatedImport:
    table = read_json_rows(items)
    return validate_rows(table.rows, table.errors)


class _Row:
    """Reads the fields of one row, collecting an error per bad field instead of stopping."""

    def __init__(self, raw: RawRow) -> None:
        self.raw = raw
        self.errors: list[RowError] = []

    def fail(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.raw.row, column, message, self.raw.line))

    def text(self, column: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self.raw.values.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "is required")
            return None
        if len(value) > max_length:
            self.fail(column, f"is longer than {max_length} characters")
            return None
        control = _CONTROL.search(value)
        if control is not None:
            code = f"U+{ord(control.group()):04X}"
            self.fail(
                column, f"contains a control character ({code}) at position {control.start()}"
            )
            return None
        return value

    def identifier(self, column: str) -> str | None:
        value = self.text(column, required=True)
        if value is not None and not IDENTIFIER.match(value):
            self.fail(column, "must be 1-64 of A-Z a-z 0-9 . _ : - starting with a letter or digit")
            return None
        return value

    def choice(self, column: str, choices: Sequence[str], default: str) -> str:
        value = self.text(column)
        if value is None:
            return default
        lowered = value.lower()
        if lowered not in choices:
            self.fail(column, f"{value!r} is not one of {', '.join(choices)}")
            return default
        return lowered

    def boolean(self, column: str) -> bool:
        value = self.text(column)
        if value is None:
            return False
        lowered = value.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered not in FALSE_WORDS:
            self.fail(column, f"{value!r} is not a boolean (true/false, yes/no, 1/0)")
        return False

    def day(self, column: str, *, required: bool = False) -> date | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.fail(column, f"{value!r} is not a date YYYY-MM-DD")
        return parsed

    def instant(self, column: str) -> datetime | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return parse_instant(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None


def validate_row(raw: RawRow) -> tuple[ImportedAccount | None, list[RowError]]:
    """One row to an account, or the list of everything wrong with it.

    A plain row takes the fast path (``import_fast``); any other is read in full here.
    """
    values = fast_values(raw.values)
    if values is not None:
        consumer_json, debt_json = fast_json(values)
        return ImportedAccount.of(
            raw.row, raw.line, values["account_id"], consumer_json, debt_json,
            values["debt_id"], values["currency"], values["balance"],
        ), []  # fmt: skip
    return validate_row_in_full(raw)


def validate_row_in_full(raw: RawRow) -> tuple[ImportedAccount | None, list[RowError]]:
    """One row to an account through the models, or everything wrong with it."""
    r = _Row(raw)
    account_id = r.identifier("account_id")
    full_name = r.text("full_name", required=True)

    state = r.text("state", required=True)
    if state is not None:
        state = state.upper()
        if state not in US_REGIONS:
            r.fail(
                "state", f"unknown state {state!r}; use the USPS code of a state, DC or territory"
            )
            state = None

    zip_code = r.text("zip")
    if zip_code is not None:
        match = _ZIP.match(zip_code)
        if match is None:
            r.fail("zip", f"{zip_code!r} is not a ZIP code (12345 or 12345-6789)")
        zip_code = match.group(1) if match else None

    phones: tuple[PhoneContact, ...] = ()
    phone_text = r.text("phone", max_length=40)
    phone_kind = r.choice("phone_kind", PHONE_KINDS, "mobile")
    consent = r.choice("phone_consent", [c.value for c in PhoneConsent], "creditor_provided")
    phone_basis = r.choice("phone_basis", [b.value for b in AddressBasis], "consumer_used")
    reassigned_checked_on = r.day("phone_reassigned_checked_on")
    if phone_text is not None:
        try:
            e164 = parse_phone(phone_text)
            phones = (
                PhoneContact(
                    number=e164,
                    kind=phone_kind,
                    consent=PhoneConsent(consent),
                    basis=AddressBasis(phone_basis),
                    reassigned_checked_on=reassigned_checked_on,
                ),
            )
        except (ValueError, ValidationError) as exc:
            r.fail("phone", _message(exc))

    emails: tuple[EmailContact, ...] = ()
    email = r.text("email", max_length=254)
    basis = r.choice("email_basis", [b.value for b in AddressBasis], "consumer_used")
    workplace = r.boolean("email_workplace")
    if email is not None:
        try:
            emails = (EmailContact(address=email, basis=AddressBasis(basis), workplace=workplace),)
        except ValidationError as exc:
            r.fail("email", f"{email!r} is not an email address: {_message(exc)}")

    locale = "en_US"
    locale_text = r.text("locale", max_length=16)
    if locale_text is not None:
        m = _LOCALE.match(locale_text)
        if m is None:
            r.fail("locale", f"{locale_text!r} is not a locale such as en_US")
        else:
            locale = m.group(1) + (f"_{m.group(2)}" if m.group(2) else "")

    creditor = r.text("creditor", required=True)
    debt_id = r.identifier("debt_id")

    currency = (r.text("currency", max_length=3 + 10) or "USD").upper()
    if currency not in CURRENCY_EXPONENTS:
        r.fail("currency", f"unknown currency {currency!r}; use an ISO 4217 code such as USD")
    balance_minor: int | None = None
    balance_text = r.text("balance", required=True, max_length=32)
    if balance_text is not None:
        try:
            balance_minor = parse_minor(
                balance_text, currency if currency in CURRENCY_EXPONENTS else "USD"
            )
        except MoneyError as exc:
            r.fail("balance", str(exc))

    due_date = r.day("due_date", required=True)
    delinquent_since = r.day("delinquent_since")
    medical = r.boolean("medical")
    legal = r.boolean("legal_action_authorized")
    limitation_date = r.day("limitation_date")
    notice_at = r.instant("validation_notice_sent_at")
    ca_license = r.text("ca_license_number", max_length=64)
    charged_off_on = r.day("charged_off_on")
    last_payment_date = r.day("last_payment_date")
    itemization = read_itemization(
        raw.values, currency if currency in CURRENCY_EXPONENTS else "USD", balance_minor, r.fail
    )

    if (
        r.errors
        or account_id is None
        or full_name is None
        or state is None
        or creditor is None
        or debt_id is None
        or due_date is None
        or balance_minor is None
    ):
        return None, r.errors
    try:
        consumer = Consumer(
            full_name=full_name,
            locale=locale,
            state=state,
            zip_code=zip_code,
            phones=phones,
            emails=emails,
        )
        debt = Debt(
            debt_id=debt_id,
            creditor=creditor,
            balance=Money(amount_minor=balance_minor, currency=currency),
            due_date=due_date,
            delinquent_since=delinquent_since,
            medical=medical,
            legal_action_authorized=legal,
            limitation_date=limitation_date,
            validation_notice_sent_at=notice_at,
            ca_license_number=ca_license,
            charged_off_on=charged_off_on,
            last_payment_date=last_payment_date,
            itemization=itemization,
        )
    except ValidationError as exc:  # the checks above should leave nothing for the models
        first = exc.errors()[0]
        column = _COLUMN_OF_FIELD.get(str(first["loc"][0]), str(first["loc"][0]))
        return None, [RowError(raw.row, column, first["msg"], raw.line)]
    consumer_json, debt_json = consumer.model_dump_json(), debt.model_dump_json()
    return ImportedAccount.of(
        raw.row, raw.line, account_id, consumer_json, debt_json, debt_id, currency,
        balance_minor,
    ), []  # fmt: skip


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        msg = str(exc.errors()[0]["msg"])
        return msg.removeprefix("value is not a valid email address: ")
    return str(exc)


_COLUMN_OF_FIELD: Final = {"zip_code": "zip", "balance": "balance", "phones": "phone"}
