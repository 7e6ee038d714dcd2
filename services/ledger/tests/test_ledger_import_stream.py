"""Reading an import as it streams in (pure): any cut of the bytes reads as the whole file."""

from __future__ import annotations

import orjson
import pytest
from dunning_ledger.domain.import_rows import ImportedAccount, validate_csv
from dunning_ledger.domain.import_stream import MAX_LISTED_ERRORS, ImportReader, StreamFormat
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import to_csv


def read(
    data: bytes, fmt: StreamFormat = "csv", piece: int = 1 << 16
) -> tuple[ImportReader, list[ImportedAccount]]:
    reader = ImportReader(fmt)
    accounts = []
    for start in range(0, len(data), piece):
        accounts += reader.feed(data[start : start + piece])
    accounts += reader.close()
    return reader, accounts


@pytest.mark.parametrize("piece", [1, 3, 17, 4096, 1 << 20])
def test_a_csv_cut_anywhere_reads_as_the_whole_file(piece: int) -> None:
    rows = [row(n) for n in range(1, 41)]
    rows[9]["full_name"] = 'Ana "Q"\nSmith'  # a quoted line break: row 10 spans two lines
    rows[19]["balance"] = "ten"
    data = to_csv(rows).replace(b"\n", b"\r\n")
    whole = validate_csv(data)
    reader, accounts = read(data, piece=piece)
    assert reader.received == 40
    assert reader.errors.count == 2
    assert [(e.row, e.line, e.field) for e in reader.errors.listed] == [
        (e.row, e.line, e.field) for e in whole.errors
    ]
    assert [a.row for a in accounts] == [n for n in range(1, 41) if n not in (10, 20)]


def test_json_lines_name_the_row_and_the_line() -> None:
    lines = [orjson.dumps(row(n)) for n in range(1, 4)]
    lines.insert(1, b"")  # a blank line is no row
    lines.append(b"{not json")
    lines.append(orjson.dumps({**row(5), "state": "XX"}))
    reader, accounts = read(b"\n".join(lines), "jsonl", piece=7)
    assert [a.account_id for a in accounts] == ["ACC-000001", "ACC-000002", "ACC-000003"]
    assert [(e.row, e.line, e.field) for e in reader.errors.listed] == [
        (4, 5, None),
        (5, 6, "state"),
    ]


def test_errors_past_the_first_thousand_are_counted_not_kept() -> None:
    rows = [row(n, state="XX", balance="-1") for n in range(1, 801)]
    reader, _ = read(to_csv(rows))
    assert reader.errors.count == 1600
    assert len(reader.errors.listed) == MAX_LISTED_ERRORS
    assert reader.errors.listed[-1].row == 500


def test_bytes_that_are_not_utf8_stop_the_reading_with_their_offset() -> None:
    data = to_csv([row(1), row(2)])
    bad = data + b"ACC-3,\xff\xfe\n" + to_csv([row(4)]).split(b"\n", 1)[1]
    reader, _ = read(bad, piece=5)
    assert reader.errors.count == 1
    error = reader.errors.listed[0]
    assert error.row == 3
    assert f"byte {len(data) + 6}" in error.message
    assert "not UTF-8" in error.message


def test_an_empty_body_and_a_bad_header_are_row_zero() -> None:
    assert [(e.row, e.message) for e in read(b"")[0].errors.listed] == [
        (0, "the file is empty: no header row")
    ]
    header, _ = read(b"account_id,colour\nA1,red\n")
    assert {(e.row, e.field) for e in header.errors.listed} >= {(0, "colour"), (0, "full_name")}
    assert header.received == 0
