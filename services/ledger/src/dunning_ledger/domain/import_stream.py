"""Reading an import as it streams in: bytes to numbered rows, rows to valid accounts (pure).

Two halves, so the second can run in other processes: ``RowReader.feed`` takes the next
bytes and returns the rows they complete, numbered (``RawRow`` for CSV, ``JsonLine`` for
JSON Lines), with the problems of the file's shape (a bad header, a row of the wrong
width, bytes that are not UTF-8) in their place among them; ``check_rows`` turns such a
batch into valid accounts and row errors. ``ImportReader`` joins the two in one process.

The whole file is never held. Errors are counted in full but only the first
``MAX_LISTED_ERRORS`` are kept. Duplicates across the file are not found here (that would
hold every id): the staging table finds them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple

import orjson

from dunning_ledger.domain.import_format import CsvRows, RawRow, RowError, json_row, not_utf8
from dunning_ledger.domain.import_rows import ImportedAccount, validate_row

MAX_LISTED_ERRORS: Final = 1000
StreamFormat = Literal["csv", "jsonl"]


class JsonLine(NamedTuple):
    """One non-blank line of a JSON Lines file, not yet parsed."""

    row: int
    line: int
    text: str


ReadItem = RawRow | JsonLine | RowError


@dataclass
class ErrorTally:
    """Every error counted, the first ``MAX_LISTED_ERRORS`` kept."""

    listed: list[RowError] = field(default_factory=list)
    count: int = 0

    def add(self, errors: list[RowError], count: int | None = None) -> None:
        self.count += len(errors) if count is None else count
        room = MAX_LISTED_ERRORS - len(self.listed)
        if room > 0:
            self.listed.extend(errors[:room])


@dataclass
class ImportProgress:
    """Data rows seen (valid or not) and the errors found so far."""

    errors: ErrorTally = field(default_factory=ErrorTally)
    received: int = 0


class CheckedRows(NamedTuple):
    """A batch checked: its valid accounts, its first errors and how many it had."""

    accounts: list[ImportedAccount]
    errors: list[RowError]
    error_count: int


def check_rows(items: Sequence[ReadItem]) -> CheckedRows:
    """Each row of a batch validated, in order (the work a process pool shares out)."""
    accounts: list[ImportedAccount] = []
    errors: list[RowError] = []
    count = 0
    for item in items:
        if isinstance(item, RowError):
            found = [item]
        else:
            account, found = _check(item)
            if account is not None:
                accounts.append(account)
        if found:
            count += len(found)
            if len(errors) < MAX_LISTED_ERRORS:
                errors.extend(found)
    return CheckedRows(accounts, errors[:MAX_LISTED_ERRORS], count)


def _check(item: RawRow | JsonLine) -> tuple[ImportedAccount | None, list[RowError]]:
    if isinstance(item, JsonLine):
        try:
            value: Any = orjson.loads(item.text)
        except orjson.JSONDecodeError as exc:
            return None, [RowError(item.row, None, f"not JSON: {exc}", item.line)]
        read = json_row(item.row, value, item.line)
        if isinstance(read, list):
            return None, read
        item = read
    return validate_row(item)


_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


class RowReader:
    """Push-style reader of a CSV or JSON Lines body: numbered rows, nothing validated."""

    def __init__(self, fmt: StreamFormat) -> None:
        self.fmt = fmt
        self.received = 0  # data rows seen, valid or not
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._bytes = 0
        self._broken = False  # not UTF-8: the rest cannot be read
        self._tail = ""  # an unfinished line
        self._csv = CsvRows()
        self._line = 0  # JSON Lines: the line number

    def feed(self, data: bytes) -> list[ReadItem]:
        if self._broken:
            return []
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            # The rows before the bad byte are read, so the error names the row it is in.
            bad = self._bytes + exc.start
            self._decoder = codecs.getincrementaldecoder("utf-8-sig" if not bad else "utf-8")()
            items = self.feed(data[: exc.start]) if exc.start else []
            return [*items, self._not_utf8(bad)]
        self._bytes += len(data)
        text = self._tail + text
        lines = _LINE.findall(text)
        end = sum(map(len, lines))
        if lines and lines[-1].endswith("\r") and end == len(text):
            end -= len(lines.pop())  # the \n of a \r\n may be in the next piece
        self._tail = text[end:]
        return self._lines(lines)

    def close(self) -> list[ReadItem]:
        """The end of the file (an unfinished last line is a line)."""
        if self._broken:
            return []
        try:
            tail = self._tail + self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return [self._not_utf8(self._bytes + exc.start)]
        self._tail = ""
        items = self._lines([tail] if tail else [])
        if self.fmt == "csv":
            items += self._rows(self._csv.close())
        return items

    def _not_utf8(self, byte: int) -> RowError:
        self._broken = True
        return RowError(self.received + 1, None, not_utf8(byte).message)

    def _lines(self, lines: list[str]) -> list[ReadItem]:
        if self.fmt == "jsonl":
            return self._json_lines(lines)
        return self._rows(self._csv.push(lines)) if not self._csv.stopped else []

    def _rows(self, items: list[RawRow | RowError]) -> list[ReadItem]:
        if items:
            self.received = max(self.received, *(item.row for item in items))
        return list(items)

    def _json_lines(self, lines: list[str]) -> list[ReadItem]:
        items: list[ReadItem] = []
        for line in lines:
            self._line += 1
            if line.strip():
                self.received += 1
                items.append(JsonLine(self.received, self._line, line))
        return items


class ImportReader(ImportProgress):
    """``RowReader`` and ``check_rows`` in one process: bytes in, valid accounts out."""

    def __init__(self, fmt: StreamFormat) -> None:
        super().__init__()
        self.fmt = fmt
        self._rows = RowReader(fmt)

    def feed(self, data: bytes) -> list[ImportedAccount]:
        return self._checked(self._rows.feed(data))

    def close(self) -> list[ImportedAccount]:
        return self._checked(self._rows.close())

    def _checked(self, items: list[ReadItem]) -> list[ImportedAccount]:
        checked = check_rows(items)
        self.errors.add(checked.errors, checked.error_count)
        self.received = self._rows.received
        return checked.accounts

    def items(self, items: Sequence[Any]) -> list[ImportedAccount]:
        """The objects of a JSON array, numbered on from the ones given before."""
        accounts = []
        for item in items:
            self.received += 1
            read = json_row(self.received, item, None)
            if isinstance(read, list):
                self.errors.add(read)
                continue
            account, errors = validate_row(read)
            if errors:
                self.errors.add(errors)
            if account is not None:
                accounts.append(account)
        return accounts
