"""The fast path of an import row (pure): what it accepts, the full way accepts the same,
to the byte; what it is unsure of, it leaves to the full way."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import phonenumbers
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.events import AccountOpened
from dunning_core.contracts.ids import event_id
from dunning_ledger.domain.import_fast import fast_values, opened_id, valid_nanp
from dunning_ledger.domain.import_format import RawRow, read_csv
from dunning_ledger.domain.import_itemization import COLUMNS as ITEMIZATION_COLUMNS
from dunning_ledger.domain.import_rows import validate_row, validate_row_in_full
from dunning_testkit.ledger import import_row, required_row
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[3]


def same_either_way(values: dict[str, str]) -> bool:
    """Whether the fast path took the row; when it did, it gave what the full way gives."""
    raw = RawRow(7, values, 8)
    taken = fast_values(values) is not None
    fast, fast_errors = validate_row(raw)
    full, full_errors = validate_row_in_full(raw)
    assert (fast, fast_errors) == (full, full_errors)
    return taken


def test_the_sample_portfolio_takes_the_fast_path_unchanged() -> None:
    rows = sample_rows(500) + [import_row(n) for n in range(1, 50)]
    rows += [required_row(n) for n in range(1, 10)]
    assert all(same_either_way(r) for r in rows)


def test_the_example_file_reads_the_same_either_way() -> None:
    example = read_csv((REPO / "docs" / "examples" / "portfolio.csv").read_bytes())
    taken = [same_either_way(dict(r.values)) for r in example.rows]
    assert taken.count(False) == 2  # two phones in national notation: parsed in full


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("phone", "(415) 555-2671"),  # valid, but a national notation: parsed in full
        ("phone", "+44 20 7946 0958"),
        ("email", '"quoted"@example.com'),
        ("email", "ana@bücher.example"),
        ("email", "Ana <ana@example.com>"),
        ("email", "ana@xn--bcher-kva.example"),
        ("validation_notice_sent_at", "2026-01-05T14:00:00-05:00"),
        ("balance", "1,234.00"),
        ("due_date", "2026-02-30"),
        ("state", "XX"),
        ("full_name", "Ana\x00"),
        ("email", "ana@example.test"),
        ("email", "ana@localhost"),
        ("locale", "english"),
    ],
)
def test_an_unusual_or_bad_value_goes_the_full_way(column: str, value: str) -> None:
    assert not same_either_way({**import_row(3), column: value})


def test_an_unknown_or_missing_column_goes_the_full_way() -> None:
    assert not same_either_way({**import_row(3), "colour": "red"})
    row = import_row(3)
    del row["due_date"]
    assert not same_either_way(row)


def test_empty_itemization_columns_keep_the_fast_path_a_given_one_goes_the_full_way() -> None:
    # The CLI and the benchmark write every column of the format, the Regulation F
    # itemization's seven too, mostly empty: those rows must not all go the full way.
    empty = dict.fromkeys(ITEMIZATION_COLUMNS, "")
    assert same_either_way({**import_row(3), **empty})
    given = {**empty, "itemization_date": "2026-01-01", "itemization_amount": "100.00"}
    assert not same_either_way({**import_row(3), **given})


@pytest.mark.parametrize("local", ["NOC", "Postmaster", "ABUSE", "info"])
def test_a_role_mailbox_is_written_in_lower_case_as_the_full_way_writes_it(local: str) -> None:
    # Hypothesis found NOC@0.aa: the fast path kept "NOC", email-validator wrote "noc".
    assert same_either_way({**import_row(4), "email": f"{local}@Example.com"})


def test_case_and_spaces_are_read_as_the_full_way_reads_them() -> None:
    row = {**import_row(4), "state": " ny ", "email": "Ana.B+x@Mail.Example.COM ",
           "phone_kind": "HOME", "medical": "Yes", "locale": "es-US",
           "zip": "10001-1234"}  # fmt: skip
    assert same_either_way(row)


_LOCAL = st.from_regex(r"[A-Za-z0-9_+.'-]{1,70}", fullmatch=True)
_DOMAIN = st.from_regex(r"[A-Za-z0-9.-]{1,30}\.[A-Za-z0-9-]{1,8}", fullmatch=True)


@settings(max_examples=400, deadline=None)
@given(local=_LOCAL, domain=_DOMAIN)
def test_an_email_the_fast_path_takes_is_one_the_validator_takes(local: str, domain: str) -> None:
    same_either_way({**import_row(5), "email": f"{local}@{domain}"})


@settings(max_examples=300, deadline=None)
@given(digits=st.from_regex(r"\+1[0-9]{10}", fullmatch=True))
def test_a_phone_the_fast_path_takes_is_one_libphonenumber_takes(digits: str) -> None:
    same_either_way({**import_row(6), "phone": digits})


@given(account_id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True))
def test_the_opened_event_id_is_the_event_id(account_id: str) -> None:
    assert opened_id(account_id) == event_id(AccountOpened.event_type, account_id, 1)
    assert uuid.UUID(opened_id(account_id)).version == 5


def test_a_nanp_number_is_valid_exactly_when_phonenumbers_says_so() -> None:
    """The fast path's validity test (the library's own patterns, compiled once) against
    ``phonenumbers.is_valid_number``: every area code, special exchanges, random numbers."""
    rnd = random.Random(10)
    numbers = [str(rnd.randint(2_000_000_000, 9_999_999_999)) for _ in range(20_000)]
    numbers += [
        f"{area}{exchange}{rnd.randint(0, 9999):04d}"
        for area in range(200, 1000)
        for exchange in (rnd.randint(200, 999), 555, 211, 911, 976)
    ]
    differ = [
        n
        for n in numbers
        if valid_nanp(n)
        != phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=1, national_number=int(n))
        )
    ]
    assert differ == []
    assert 0 < sum(map(valid_nanp, numbers)) < len(numbers)  # both answers occur
