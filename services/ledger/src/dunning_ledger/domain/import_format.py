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
| charged_off_on | | `YYYY-MM-DD` of the charge-off |
| last_payment_date | | `YYYY-MM-DD` of the consumer's last payment to the creditor |

Booleans read `true/false`, `yes/no`, `y/n`, `t/f`, `1/0`; empty means the default.
Text is UTF-8 without control characters (a NUL, a line break inside a name...); a value
that starts like a spreadsheet formula (`=`, `+`, `-`, `@`) is kept as the text it is.
Amounts are at most 10^15 minor units (10000000000000.00 USD). An account_id or a debt_id
appears once in a file; a debt already held by another account is refused.

Errors name the row and the field. `row` counts data rows from 1 (the first account);
the header is not a data row and its errors carry `row` 0. For CSV, `line` is also
given: the physical line in the file, where the header is line 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final

import phonenumbers

COLUMNS: Final[tuple[str, ...]] = (
    "account_id", "full_name", "state", "zip", "phone", "phone_kind", "phone_consent",
    "phone_basis", "phone_reassigned_checked_on", "email", "email_basis", "email_workplace",
    "locale", "creditor", "debt_id", "balance", "currency", "due_date", "delinquent_since",
    "medical", "legal_action_authorized", "limitation_date", "validation_notice_sent_at",
    "ca_license_number", "charged_off_on", "last_payment_date",
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

IDENTIFIER: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
"""An account_id or debt_id: 1-64 of ``A-Z a-z 0-9 . _ : -``, starting with a letter or digit."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
