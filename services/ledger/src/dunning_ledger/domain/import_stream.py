"""Reading an import as it streams in: bytes to rows to valid accounts, a piece at a time (pure).

The whole file is never held: ``ImportReader.feed`` takes the next bytes and returns the
accounts whose rows are complete and valid; ``close`` ends the file. Errors are counted
in full but only the first ``MAX_LISTED_ERRORS`` are kept. Duplicates across the file
are not found here (that would hold every id): the staging table finds them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from dunning_ledger.domain.import_format import CsvRows, RawRow, RowError, json_row, not_utf8
from dunning_ledger.domain.import_rows import ImportedAccount, validate_row

MAX_LISTED_ERRORS: Final = 1000
StreamFormat = Literal["csv", "jsonl"]


@dataclass
class ErrorTally:
    """Every error counted, the first ``MAX_LISTED_ERRORS`` kept."""

    listed: list[RowError] = field(default_factory=list)
    count: int = 0

    def add(self, errors: list[RowError]) -> None:
        self.count += len(errors)
        room = MAX_LISTED_ERRORS - len(self.listed)
        if room > 0:
            self.listed.extend(errors[:room])


_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


class ImportReader:
    """Push-style reader of a CSV or JSON Lines body, validating each row as it completes."""

    def __init__(self, fmt: StreamFormat) -> None:
        self.fmt = fmt
        self.errors = ErrorTally()
        self.received = 0  # data rows seen, valid or not
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._bytes = 0
        self._broken = False  # not UTF-8: the rest cannot be read
        self._tail = ""  # an unfinished line
        self._csv = CsvRows()
        self._line = 0  # JSON Lines: the line number

    def feed(self, data: bytes) -> list[ImportedAccount]:
        if self._broken:
            return []
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            # The rows before the bad byte are read, so the error names the row it is in.
            bad = self._bytes + exc.start
            self._decoder = codecs.getincrementaldecoder("utf-8-sig" if not bad else "utf-8")()
            accounts = self.feed(data[: exc.start]) if exc.start else []
            return accounts + self._not_utf8(bad)
        self._bytes += len(data)
        text = self._tail + text
        lines = _LINE.findall(text)
        end = sum(map(len, lines))
        if lines and lines[-1].endswith("\r") and end == len(text):
            end -= len(lines.pop())  # the \n of a \r\n may be in the next piece
        self._tail = text[end:]
        return self._lines(lines)

    def close(self) -> list[ImportedAccount]:
        """The end of the file (an unfinished last line is a line)."""
        if self._broken:
            return []
        try:
            tail = self._tail + self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return self._not_utf8(self._bytes + exc.start)
        self._tail = ""
        accounts = self._lines([tail] if tail else [])
        if self.fmt == "csv":
            accounts += self._rows(self._csv.close())
        return accounts

    def _not_utf8(self, byte: int) -> list[ImportedAccount]:
        self._broken = True
        self.errors.add([RowError(self.received + 1, None, not_utf8(byte).message)])
        return []

    def _lines(self, lines: list[str]) -> list[ImportedAccount]:
        if self.fmt == "jsonl":
            return self._json_lines(lines)
        return self._rows(self._csv.push(lines)) if not self._csv.stopped else []

    def _rows(self, items: list[RawRow | RowError]) -> list[ImportedAccount]:
        accounts: list[ImportedAccount] = []
        for item in items:
            self.received = max(self.received, item.row)
            if isinstance(item, RowError):
                self.errors.add([item])
                continue
            account = self._valid(item)
            if account is not None:
                accounts.append(account)
        return accounts

    def items(self, items: Sequence[Any]) -> list[ImportedAccount]:
        """The objects of a JSON array, numbered on from the ones given before."""
        accounts = []
        for item in items:
            self.received += 1
            account = self._json_item(item, None)
            if account is not None:
                accounts.append(account)
        return accounts

    def _json_lines(self, lines: list[str]) -> list[ImportedAccount]:
        accounts: list[ImportedAccount] = []
        for line in lines:
            self._line += 1
            if not line.strip():
                continue
            self.received += 1
            try:
                item: Any = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                self.errors.add([RowError(self.received, None, f"not JSON: {exc}", self._line)])
                continue
            account = self._json_item(item, self._line)
            if account is not None:
                accounts.append(account)
        return accounts

    def _json_item(self, item: Any, line: int | None) -> ImportedAccount | None:
        read = json_row(self.received, item, line)
        if isinstance(read, list):
            self.errors.add(read)
            return None
        return self._valid(read)

    def _valid(self, raw: RawRow) -> ImportedAccount | None:
        account, errors = validate_row(raw)
        if errors:
            self.errors.add(errors)
        return account
