"""Validating an account import, row by row, before anything is written (pure).

Import format: one row per account (one debt per account), as CSV with a header row or as
JSON `{"accounts": [{column: value, ...}]}`. Columns (names are case-insensitive; a
column left out of the header reads as empty in every row; an unknown column is an error):

| column | required | value |
|---|---|---|
| account_id | yes | 1-64 of `A-Z a-z 0-9 . _ : -`, unique in the file |
| full_name | yes | the consumer's name |
| state | yes | USPS code of a US state, DC or territory (`NY`, `PR`) |
| zip | | `12345` or `12345-6789` (kept as 5 digits) |
| phone | | any notation, default region US; stored E.164: `(415) 555-2671` → `+14155552671` |
| phone_kind | | mobile (default), home, work, other |
| phone_consent | | creditor_provided (default), consumer_provided, express_written, none |
| phone_basis | | Reg F basis: consumer_used (default), consented, creditor_notice, none |
| phone_reassigned_checked_on | | `YYYY-MM-DD` of the last reassigned-numbers database check |
| email | | an email address |
| email_basis | | consumer_used (default), consented, creditor_notice, none |
| email_workplace | | boolean (default false) |
| locale | | `en_US` (default), `es_US`, ... |
| creditor | yes | the original creditor's name |
| debt_id | yes | as account_id |
| balance | yes | decimal in major units (`1234.50`), >= 0, at most the currency's decimals |
| currency | | ISO 4217 code (default USD) |
| due_date | yes | `YYYY-MM-DD` |
| delinquent_since | | `YYYY-MM-DD` |
| medical | | boolean (default false) |
| legal_action_authorized | | boolean (default false) |
| limitation_date | | `YYYY-MM-DD` (statute of limitations) |
| validation_notice_sent_at | | ISO 8601 instant with offset, or a date (00:00 UTC) |
| ca_license_number | | the collector's California licence number |

Booleans read `true/false`, `yes/no`, `y/n`, `t/f`, `1/0`; empty means the default.

Errors name the row and the field. `row` counts data rows from 1 (the first account);
the header is not a data row and its errors carry `row` 0. For CSV, `line` is also
given: the physical line in the file, where the header is line 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final

import phonenumbers
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

from dunning_ledger.domain.money import CURRENCY_EXPONENTS, MoneyError, parse_minor
from dunning_ledger.domain.regions import US_REGIONS

COLUMNS: Final[tuple[str, ...]] = (
    "account_id", "full_name", "state", "zip", "phone", "phone_kind", "phone_consent",
    "phone_basis", "phone_reassigned_checked_on", "email", "email_basis", "email_workplace",
    "locale", "creditor", "debt_id", "balance", "currency", "due_date", "delinquent_since",
    "medical", "legal_action_authorized", "limitation_date", "validation_notice_sent_at",
    "ca_license_number",
)  # fmt: skip
REQUIRED_COLUMNS: Final[tuple[str, ...]] = (
    "account_id",
    "full_name",
    "state",
    "creditor",
    "debt_id",
    "balance",
    "due_date",
)
HEADER_ROW: Final = 0

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_ZIP = re.compile(r"^(\d{5})(-\d{4})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOCALE = re.compile(r"^([a-z]{2,3})(?:[_-]([A-Z]{2}))?$")
_TRUE: Final = frozenset({"true", "yes", "y", "t", "1"})
_FALSE: Final = frozenset({"false", "no", "n", "f", "0"})
_PHONE_KINDS: Final = ("mobile", "home", "work", "other")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with the input: which data row (0 for the header), which field, what."""

    row: int
    field: str | None
    message: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as text: ``row`` counts data rows from 1, ``line`` is the file line."""

    row: int
    values: Mapping[str, str]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ImportedAccount:
    """A valid row: the account's consumer and debt (balance as imported) and a fingerprint.

    ``consumer_json`` and ``debt_json`` are the models' JSON, kept for storage.
    """

    account_id: str
    consumer: Consumer
    debt: Debt
    consumer_json: str
    debt_json: str
    fingerprint: str
    row: int


@dataclass(frozen=True)
class ValidatedImport:
    accounts: tuple[ImportedAccount, ...] = ()
    errors: tuple[RowError, ...] = ()
    received: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class RawTable:
    """Rows as text, or the reasons the input could not even be read as a table."""

    rows: list[RawRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- reading --------------------------------------------------------------------------


def read_csv(data: bytes | str) -> RawTable:
    """Split a CSV document into rows; header problems come back as row-0 errors."""
    table = RawTable()
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            table.errors.append(
                RowError(HEADER_ROW, None, f"the file is not UTF-8 (byte {exc.start})", 1)
            )
            return table
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # leading blank lines
        if header is None:
            table.errors.append(RowError(HEADER_ROW, None, "the file is empty: no header row", 1))
            return table
        header_line = reader.line_num
        columns = [name.strip().lower() for name in header]
        table.errors.extend(check_header(columns, line=header_line))
        if table.errors:
            return table
        width = len(columns)
        row_number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in cells):
                continue
            row_number += 1
            line = reader.line_num
            if len(cells) != width:
                table.errors.append(
                    RowError(
                        row_number,
                        None,
                        f"has {len(cells)} values but the header has {width} columns",
                        line,
                    )
                )
                continue
            table.rows.append(RawRow(row_number, dict(zip(columns, cells, strict=True)), line))
    except csv.Error as exc:
        table.errors.append(
            RowError(max(len(table.rows), 1), None, f"unreadable CSV: {exc}", reader.line_num)
        )
    return table


def check_header(columns: Sequence[str], *, line: int | None = 1) -> list[RowError]:
    """Missing required, unknown and repeated columns, each as a row-0 error."""
    errors = []
    present = set(columns)
    for name in REQUIRED_COLUMNS:
        if name not in present:
            errors.append(RowError(HEADER_ROW, name, "required column is missing", line))
    seen: set[str] = set()
    for name in columns:
        if name not in COLUMNS:
            known = ", ".join(COLUMNS)
            errors.append(
                RowError(HEADER_ROW, name or None, f"unknown column; known: {known}", line)
            )
        elif name in seen:
            errors.append(RowError(HEADER_ROW, name, "column appears twice", line))
        seen.add(name)
    return errors


def read_json_rows(items: Sequence[Any]) -> RawTable:
    """Rows of a JSON import; scalar values are read as their text."""
    table = RawTable()
    for index, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            table.errors.append(RowError(index, None, "must be an object of column: value"))
            continue
        values: dict[str, str] = {}
        bad = False
        for key, value in item.items():
            name = str(key).strip().lower()
            if name not in COLUMNS:
                table.errors.append(RowError(index, str(key), "unknown column"))
                bad = True
            elif value is None:
                values[name] = ""
            elif isinstance(value, bool):
                values[name] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                values[name] = str(value)
            else:
                table.errors.append(RowError(index, name, "must be a string, number or boolean"))
                bad = True
        if not bad:
            table.rows.append(RawRow(index, values))
    return table


# --- validating -----------------------------------------------------------------------


def validate_rows(rows: Sequence[RawRow], prior_errors: Iterable[RowError] = ()) -> ValidatedImport:
    """Every row checked; the import is valid only if no row has an error."""
    errors = list(prior_errors)
    accounts: list[ImportedAccount] = []
    first_row_of: dict[str, int] = {}
    for raw in rows:
        account, row_errors = validate_row(raw)
        if account is not None:
            earlier = first_row_of.setdefault(account.account_id, raw.row)
            if earlier != raw.row:
                row_errors.append(
                    RowError(raw.row, "account_id", f"duplicate of row {earlier}", raw.line)
                )
                account = None
        errors.extend(row_errors)
        if account is not None:
            accounts.append(account)
    received = max((r.row for r in rows), default=0)
    received = max(received, max((e.row for e in errors), default=0))
    if errors:
        errors.sort(key=lambda e: (e.row, COLUMNS.index(e.field) if e.field in COLUMNS else -1))
        return ValidatedImport(errors=tuple(errors), received=received)
    return ValidatedImport(accounts=tuple(accounts), received=received)


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
        return value

    def identifier(self, column: str) -> str | None:
        value = self.text(column, required=True)
        if value is not None and not _ID.match(value):
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
        if lowered in _TRUE:
            return True
        if lowered not in _FALSE:
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


def parse_date(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with offset; a bare date means 00:00 UTC that day."""
    day = parse_date(value)
    if day is not None:
        return datetime.combine(day, time(0), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 instant such as 2026-01-05T14:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (add Z or +hh:mm)")
    return parsed


def parse_phone(value: str, default_region: str = "US") -> str:
    """The E.164 form of a phone number, or ``ValueError`` saying why it is not one."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number: {exc._msg}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def validate_row(raw: RawRow) -> tuple[ImportedAccount | None, list[RowError]]:
    """One row to an account, or the list of everything wrong with it."""
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
    phone_kind = r.choice("phone_kind", _PHONE_KINDS, "mobile")
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
        )
    except ValidationError as exc:  # the checks above should leave nothing for the models
        first = exc.errors()[0]
        column = _COLUMN_OF_FIELD.get(str(first["loc"][0]), str(first["loc"][0]))
        return None, [RowError(raw.row, column, first["msg"], raw.line)]
    consumer_json, debt_json = consumer.model_dump_json(), debt.model_dump_json()
    return ImportedAccount(
        account_id,
        consumer,
        debt,
        consumer_json,
        debt_json,
        fingerprint(consumer_json, debt_json),
        raw.row,
    ), []


def fingerprint(consumer_json: str, debt_json: str) -> str:
    """A digest of what was imported: equal digests mean a re-import changes nothing.

    Pydantic writes fields in declaration order, so equal content gives equal JSON.
    """
    return hashlib.sha256(f"{consumer_json}\x1f{debt_json}".encode()).hexdigest()


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        msg = str(exc.errors()[0]["msg"])
        return msg.removeprefix("value is not a valid email address: ")
    return str(exc)


_COLUMN_OF_FIELD: Final = {"zip_code": "zip", "balance": "balance", "phones": "phone"}
