"""Import validation (pure): every bad input names its data row and field; nothing partial."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from dunning_ledger.domain.import_format import COLUMNS, HEADER_ROW, RowError, parse_phone
from dunning_ledger.domain.import_rows import ValidatedImport, validate_csv, validate_json
from dunning_testkit.ledger import import_row


def good_row(n: int = 1, /, **overrides: str) -> dict[str, str]:
    """Account ``n`` with every column filled: Ana Garcia in New York, owing 1234.50."""
    mine = {
        "account_id": f"ACC-{n:04d}",
        "full_name": "Ana Garcia",
        "phone": "+12125550143",
        "email": f"ana.{n}@example.com",
        "debt_id": f"DEBT-{n:04d}",
        "balance": "1234.50",
    }
    return import_row(n, **{**mine, **overrides})


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buffer.getvalue()


def only_error(result: ValidatedImport) -> RowError:
    assert not result.ok
    assert not result.accounts, "an import with errors must keep no account"
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- a good file ----------------------------------------------------------------------


def test_a_good_file_gives_one_account_per_row() -> None:
    result = validate_csv(to_csv([good_row(1), good_row(2)]).encode())
    assert result.ok
    assert result.received == 2
    assert [a.account_id for a in result.accounts] == ["ACC-0001", "ACC-0002"]
    account = result.accounts[0]
    assert account.debt.balance.amount_minor == 123450
    assert account.debt.balance.currency == "USD"
    assert account.consumer.phones[0].number == "+12125550143"
    assert account.consumer.emails[0].address == "ana.1@example.com"
    assert account.debt.due_date == date(2026, 1, 15)


def test_values_are_normalised() -> None:
    row = good_row(
        phone="(415) 555-2671",
        state=" ca ",
        zip="94105-1234",
        email_workplace="YES",
        locale="es-US",
        validation_notice_sent_at="2026-01-05",
        medical="1",
        currency="usd",
    )
    account = validate_csv(to_csv([row])).accounts[0]
    assert account.consumer.phones[0].number == "+14155552671"
    assert account.consumer.state == "CA"
    assert account.consumer.zip_code == "94105"
    assert account.consumer.emails[0].workplace is True
    assert account.consumer.locale == "es_US"
    assert account.debt.validation_notice_sent_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert account.debt.medical is True
    assert account.debt.balance.currency == "USD"


def test_optional_columns_may_be_left_out_of_the_header() -> None:
    columns = ["account_id", "full_name", "state", "creditor", "debt_id", "balance", "due_date"]
    result = validate_csv(to_csv([good_row()], columns))
    assert result.ok
    account = result.accounts[0]
    assert account.consumer.phones == ()
    assert account.consumer.emails == ()
    assert account.debt.balance.currency == "USD"


def test_header_names_are_case_insensitive_and_a_bom_is_ignored() -> None:
    text = to_csv([good_row()]).replace("account_id", "Account_ID", 1)
    assert validate_csv(("\ufeff" + text).encode()).ok


def test_same_content_gives_the_same_fingerprint_and_a_change_another() -> None:
    first = validate_csv(to_csv([good_row()])).accounts[0]
    again = validate_csv(to_csv([good_row()])).accounts[0]
    changed = validate_csv(to_csv([good_row(balance="1234.51")])).accounts[0]
    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != changed.fingerprint


def test_territories_and_dc_are_states_here() -> None:
    rows = [good_row(1, state="DC"), good_row(2, state="PR"), good_row(3, state="GU")]
    assert validate_csv(to_csv(rows)).ok


# --- each bad input named in the brief, with its exact row and field -----------------


def test_bad_phone_names_row_and_field() -> None:
    rows = [good_row(1), good_row(2), good_row(3, phone="555-12")]
    error = only_error(validate_csv(to_csv(rows)))
    assert (error.row, error.line, error.field) == (3, 4, "phone")
    assert "'555-12'" in error.message


def test_unparseable_phone_is_refused() -> None:
    error = only_error(validate_csv(to_csv([good_row(phone="call me maybe")])))
    assert (error.row, error.field) == (1, "phone")
    assert "not a phone number" in error.message


def test_unknown_state_names_row_and_field() -> None:
    error = only_error(validate_csv(to_csv([good_row(1), good_row(2, state="XX")])))
    assert (error.row, error.line, error.field) == (2, 3, "state")
    assert "unknown state 'XX'" in error.message


def test_negative_balance_names_row_and_field() -> None:
    error = only_error(validate_csv(to_csv([good_row(balance="-10.00")])))
    assert (error.row, error.line, error.field) == (1, 2, "balance")
    assert "negative" in error.message


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("due_date", "2026-02-30"),
        ("due_date", "15/01/2026"),
        ("delinquent_since", "yesterday"),
        ("limitation_date", "20290115"),
    ],
)
def test_bad_dates_name_row_and_field(column: str, value: str) -> None:
    error = only_error(validate_csv(to_csv([good_row(1), good_row(2, **{column: value})])))
    assert (error.row, error.field) == (2, column)
    assert "not a date YYYY-MM-DD" in error.message


def test_an_instant_without_offset_is_refused() -> None:
    error = only_error(
        validate_csv(to_csv([good_row(validation_notice_sent_at="2026-01-05T10:00:00")]))
    )
    assert (error.row, error.field) == (1, "validation_notice_sent_at")
    assert "no UTC offset" in error.message


def test_missing_required_column_is_a_header_error_and_rows_are_not_checked() -> None:
    columns = [c for c in COLUMNS if c != "balance"]
    result = validate_csv(to_csv([good_row(state="XX")], columns))
    error = only_error(result)
    assert (error.row, error.line, error.field) == (HEADER_ROW, 1, "balance")
    assert error.message == "required column is missing"


def test_unknown_and_repeated_columns_are_header_errors() -> None:
    text = to_csv([good_row()]).replace("ca_license_number", "ca_licence", 1)
    error = only_error(validate_csv(text))
    assert (error.row, error.field) == (HEADER_ROW, "ca_licence")
    assert "unknown column" in error.message


def test_empty_required_value_is_refused() -> None:
    error = only_error(validate_csv(to_csv([good_row(full_name="  ")])))
    assert (error.row, error.field, error.message) == (1, "full_name", "is required")


def test_every_error_of_every_row_is_reported_in_row_order() -> None:
    rows = [
        good_row(1, state="ZZ", balance="abc"),
        good_row(2),
        good_row(3, email="not-an-email", due_date=""),
    ]
    result = validate_csv(to_csv(rows))
    assert [(e.row, e.field) for e in result.errors] == [
        (1, "state"),
        (1, "balance"),
        (3, "email"),
        (3, "due_date"),
    ]
    assert result.accounts == ()
    assert result.received == 3


def test_duplicate_account_ids_are_refused() -> None:
    error = only_error(validate_csv(to_csv([good_row(1), good_row(2), good_row(1)])))
    assert (error.row, error.field, error.message) == (3, "account_id", "duplicate of row 1")


def test_a_row_with_the_wrong_number_of_values_is_refused() -> None:
    text = to_csv([good_row(1)]) + "ACC-9,too,few\n"
    error = only_error(validate_csv(text))
    assert (error.row, error.line, error.field) == (2, 3, None)
    assert f"has 3 values but the header has {len(COLUMNS)} columns" in error.message


def test_line_numbers_count_physical_lines_while_rows_count_data_rows() -> None:
    text = to_csv([good_row(1), good_row(2)]).replace("\nACC-0002", "\n\nACC-0002")
    text = text.replace("ACC-0002,Ana Garcia,NY", "ACC-0002,Ana Garcia,QQ")
    error = only_error(validate_csv(text))
    assert (error.row, error.line) == (2, 4)  # a blank line is not a row, but is a line


BAD_VALUES = {  # what the error message says: the values, by column, that make it say so
    "not a ZIP code": {"zip": "1234"},
    "not one of": {"phone_kind": "pager", "phone_consent": "maybe", "email_basis": "guess"},
    "not a boolean": {"email_workplace": "perhaps", "medical": "2"},
    "unknown currency": {"currency": "XYZ"},
    "more than 2 decimal places": {"balance": "12.345"},
    "must be 1-64": {"account_id": "ACC 1"},
    "not a locale": {"locale": "english"},
}


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        (column, value, fragment)
        for fragment, bad in BAD_VALUES.items()
        for column, value in bad.items()
    ],
)
def test_other_bad_values_name_their_field(column: str, value: str, fragment: str) -> None:
    error = only_error(validate_csv(to_csv([good_row(**{column: value})])))
    assert (error.row, error.field) == (1, column)
    assert fragment in error.message


def test_a_file_that_is_not_utf8_is_refused() -> None:
    error = only_error(validate_csv(to_csv([good_row(full_name="José")]).encode("latin-1")))
    assert (error.row, error.field) == (HEADER_ROW, None)
    assert "not UTF-8" in error.message


def test_an_empty_file_is_refused() -> None:
    error = only_error(validate_csv(b""))
    assert error.row == HEADER_ROW
    assert "no header row" in error.message


def test_a_header_without_rows_imports_nothing() -> None:
    result = validate_csv(to_csv([]))
    assert result.ok
    assert result.accounts == ()
    assert result.received == 0


# --- JSON -----------------------------------------------------------------------------


def test_json_rows_take_native_scalars() -> None:
    row: dict[str, object] = dict(good_row())
    row.update(balance=99.5, medical=True, delinquent_since=None)
    result = validate_json([row])
    assert result.ok
    assert result.accounts[0].debt.balance.amount_minor == 9950
    assert result.accounts[0].debt.medical is True
    assert result.accounts[0].debt.delinquent_since is None


def test_json_rows_name_row_and_field() -> None:
    rows: list[object] = [good_row(1), good_row(2, state="XX"), "not an object"]
    result = validate_json(rows)
    found = [(e.row, e.field, e.line) for e in result.errors]
    assert found == [(2, "state", None), (3, None, None)]


def test_json_missing_required_value_and_unknown_key() -> None:
    row: dict[str, object] = {k: v for k, v in good_row().items() if k != "debt_id"}
    row["colour"] = "blue"
    result = validate_json([row])
    assert [(e.row, e.field) for e in result.errors] == [(1, "colour")]
    del row["colour"]
    assert [(e.row, e.field, e.message) for e in validate_json([row]).errors] == [
        (1, "debt_id", "is required")
    ]


# --- phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["+1 212 555 0143", "212-555-0143", "1 (212) 555-0143"])
def test_phone_numbers_become_e164_with_us_default(text: str) -> None:
    assert parse_phone(text) == "+12125550143"


def test_a_phone_number_with_another_country_code_keeps_it() -> None:
    assert parse_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("text", ["12345", "+1 000 555 0143", "phone"])
def test_invalid_phone_numbers_raise(text: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        parse_phone(text)
