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
| itemization_date | | `YYYY-MM-DD`: the Regulation F itemization date (`import_itemization`) |
| itemization_basis | | last_statement, charge_off, last_payment, transaction, judgment |
| itemization_amount | | decimal: owed on the itemization date |
| itemization_interest | | decimal >= 0: interest since (default 0) |
| itemization_fees | | decimal >= 0: fees since (default 0) |
| itemization_payments | | decimal >= 0: payments since (default 0) |
| itemization_credits | | decimal >= 0: credits since (default 0) |

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final

import phonenumbers
from dunning_core.contracts.account_import import IMPORT_COLUMNS

COLUMNS: Final = IMPORT_COLUMNS  # the contract's list: the CLI writes portfolios with it
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
TRUE_WORDS: Final = frozenset({"true", "yes", "y", "t", "1"})
FALSE_WORDS: Final = frozenset({"false", "no", "n", "f", "0"})
"""A boolean column's words, in any case."""
PHONE_KINDS: Final = ("mobile", "home", "work", "other")

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

    def __reduce__(self) -> tuple[type[RowError], tuple[int, str | None, str, int | None]]:
        return RowError, (self.row, self.field, self.message, self.line)  # cheap to pickle


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as text: ``row`` counts data rows from 1, ``line`` is the file line."""

    row: int
    values: Mapping[str, str]
    line: int | None = None

    def __reduce__(self) -> tuple[type[RawRow], tuple[int, Mapping[str, str], int | None]]:
        return RawRow, (self.row, self.values, self.line)  # cheap to pickle


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
            table.errors.append(not_utf8(exc.start))
            return table
    else:
        text = data.removeprefix("\ufeff")
    for item in iter_csv(io.StringIO(text, newline="")):
        if isinstance(item, RawRow):
            table.rows.append(item)
        else:
            table.errors.append(item)
    return table


def not_utf8(byte: int) -> RowError:
    return RowError(HEADER_ROW, None, f"the file is not UTF-8 (byte {byte})", 1)


def iter_csv(lines: Iterable[str]) -> Iterator[RawRow | RowError]:
    """The rows of CSV lines as they come, and each problem as it is found."""
    reader = CsvRows()
    for line in lines:
        yield from reader.push((line,))
        if reader.stopped:
            return
    yield from reader.close()


class _Feed:
    """An iterator the push side refills: the CSV reader pulls one record's lines from it."""

    def __init__(self) -> None:
        self.pending: list[str] = []

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if not self.pending:
            raise StopIteration
        return self.pending.pop()


class CsvRows:
    """CSV rows from lines pushed in a few at a time (the file need not be whole).

    Lines are grouped into records first (an odd count of quotes means a quoted field
    runs on to the next line), so the CSV reader never runs dry inside a record. A
    header problem or unreadable CSV stops the reading (``stopped``).
    """

    def __init__(self) -> None:
        self._feed = _Feed()
        self._reader = csv.reader(self._feed, strict=True)
        self._record: list[str] = []
        self._quotes = 0
        self.columns: list[str] | None = None
        self.rows = 0
        self.stopped = False

    def push(self, lines: Iterable[str]) -> list[RawRow | RowError]:
        out: list[RawRow | RowError] = []
        for line in lines:
            if self.stopped:
                break
            self._record.append(line)
            self._quotes += line.count('"')
            if self._quotes % 2 == 0:
                out += self._read()
        return out

    def close(self) -> list[RawRow | RowError]:
        """The end of the file: an unclosed quoted field, or no header at all, is an error."""
        out = self._read() if self._record and not self.stopped else []
        if self.columns is None and not self.stopped:
            out.append(RowError(HEADER_ROW, None, "the file is empty: no header row", 1))
        return out

    def _read(self) -> list[RawRow | RowError]:
        self._feed.pending, self._record, self._quotes = self._record[::-1], [], 0
        try:
            cells = next(self._reader)
        except StopIteration:
            return []
        except csv.Error as exc:
            self.stopped = True
            line = self._reader.line_num
            return [RowError(max(self.rows, 1), None, f"unreadable CSV: {exc}", line)]
        if not any(cell.strip() for cell in cells):
            return []  # blank lines, before the header too
        line = self._reader.line_num
        if self.columns is None:
            columns = [name.strip().lower() for name in cells]
            errors = check_header(columns, line=line)
            self.stopped = bool(errors)
            self.columns = columns
            return list(errors)
        self.rows += 1
        if len(cells) != len(self.columns):
            message = f"has {len(cells)} values but the header has {len(self.columns)} columns"
            return [RowError(self.rows, None, message, line)]
        return [RawRow(self.rows, dict(zip(self.columns, cells, strict=True)), line)]


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
        read = json_row(index, item)
        if isinstance(read, RawRow):
            table.rows.append(read)
        else:
            table.errors.extend(read)
    return table


def json_row(index: int, item: Any, line: int | None = None) -> RawRow | list[RowError]:
    """One JSON object of column: value as a row, or what is wrong with it."""
    if not isinstance(item, Mapping):
        return [RowError(index, None, "must be an object of column: value", line)]
    values: dict[str, str] = {}
    errors: list[RowError] = []
    for key, value in item.items():
        name = str(key).strip().lower()
        if name not in COLUMNS:
            errors.append(RowError(index, str(key), "unknown column", line))
        elif value is None:
            values[name] = ""
        elif isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[name] = str(value)
        else:
            errors.append(RowError(index, name, "must be a string, number or boolean", line))
    return errors or RawRow(index, values, line)


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
