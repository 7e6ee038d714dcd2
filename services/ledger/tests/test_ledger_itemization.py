"""Regulation F itemization from the import: the optional columns read from CSV and JSON
Lines, refused with the row and field when they do not add up, and shown by the money view."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import orjson
import pytest
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.domain.import_rows import ImportedAccount
from dunning_ledger.domain.import_stream import ImportReader, StreamFormat
from dunning_testkit.ledger import (
    ITEMIZATION,
    ITEMIZED,
    UNREACHABLE,
    import_row,
    ledger_client,
    required_row,
    scalar,
    to_csv,
)
from dunning_testkit.ledger_memory import MemoryLedger


def read(
    rows: list[dict[str, str]], fmt: StreamFormat
) -> tuple[ImportReader, list[ImportedAccount]]:
    data = (
        to_csv(rows)
        if fmt == "csv"
        else b"".join(orjson.dumps({k: v for k, v in r.items() if v}) + b"\n" for r in rows)
    )
    reader = ImportReader(fmt)
    accounts = reader.feed(data)
    return reader, accounts + reader.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_itemization_columns_are_read_in_minor_units(fmt: StreamFormat) -> None:
    reader, accounts = read([import_row(1, **ITEMIZED), import_row(2)], fmt)
    assert reader.errors.count == 0, reader.errors.listed
    itemized, plain = accounts
    assert itemized.debt.itemization == ITEMIZATION
    assert plain.debt.itemization is None
    # Absent, it is left out of the stored JSON: earlier imports keep their fingerprints.
    assert "itemization" not in plain.debt_json


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"itemization_amount": "1100.01"}, "balance", "is not the itemization's 1234.51"),
        ({"itemization_fees": "-1"}, "itemization_fees", "negative"),
        ({"itemization_interest": "1.234"}, "itemization_interest", "decimal"),
        ({"itemization_basis": "statement"}, "itemization_basis", "is not one of"),
        ({"itemization_basis": ""}, "itemization_basis", "is required"),
        ({"itemization_date": "31/10/2025"}, "itemization_date", "is not a date"),
        ({"itemization_amount": ""}, "itemization_amount", "is required"),
    ],
)
def test_a_bad_itemization_names_the_row_and_field_and_keeps_nothing(
    fmt: StreamFormat, overrides: dict[str, str], field: str, words: str
) -> None:
    reader, accounts = read([import_row(1), import_row(2, **{**ITEMIZED, **overrides})], fmt)
    [error] = reader.errors.listed
    assert (error.row, error.field) == (2, field), error
    assert words in error.message, error.message
    assert [a.row for a in accounts] == [1]


async def test_the_money_view_itemizes_from_the_creditors_figures() -> None:
    memory = MemoryLedger()
    clock = FixedClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    app = build_ledger(LedgerSettings(database_url=UNREACHABLE), clock, memory).app
    async with ledger_client(app) as http:
        rows = {"accounts": [required_row(1, **ITEMIZED), required_row(2, "100.00")]}
        assert (await http.post("/v1/accounts/import", json=rows)).status_code == 200
        payment = {"payment_id": "P1", "amount": "34.50"}
        assert (await http.post("/v1/accounts/A1/payments", json=payment)).status_code == 201
        itemized = (await http.get("/v1/accounts/A1/money")).json()["itemization"]
        plain = (await http.get("/v1/accounts/A2/money")).json()["itemization"]
    assert itemized == {
        "itemization_date": "2025-10-31",
        "basis": "charge_off",
        "amount_on_itemization_date_minor": 110_000,
        "interest_minor": 12_025,
        "fees_minor": 3_500,
        "payments_minor": 2_075 + 3_450,  # the creditor's since, and ours
        "credits_minor": 0,
    }
    total = (
        itemized["amount_on_itemization_date_minor"] + itemized["interest_minor"]
        + itemized["fees_minor"] - itemized["payments_minor"] - itemized["credits_minor"]
    )  # fmt: skip
    assert total == 123_450 - 3_450
    assert plain == {
        "itemization_date": "2026-01-01",
        "basis": None,
        "amount_on_itemization_date_minor": 10_000,
        "interest_minor": 0,
        "fees_minor": 0,
        "payments_minor": 0,
        "credits_minor": 0,
    }


@pytest.mark.integration
async def test_postgresql_keeps_the_itemization_in_its_columns(
    http: httpx.AsyncClient, database: str
) -> None:
    rows = [import_row(1, **ITEMIZED), import_row(2)]
    response = await http.post(
        "/v1/accounts/import", content=to_csv(rows), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    columns = (
        "itemization_date, itemization_basis, itemization_amount_minor, "
        "itemization_interest_minor, itemization_fees_minor, itemization_payments_minor, "
        "itemization_credits_minor"
    )
    itemized = await scalar(
        database, f"SELECT ROW({columns}) FROM ledger.accounts WHERE account_id = 'ACC-000001'"
    )
    assert tuple(itemized) == (date(2025, 10, 31), "charge_off", 110_000, 12_025, 3_500, 2_075, 0)
    plain = await scalar(
        database, f"SELECT ROW({columns}) FROM ledger.accounts WHERE account_id = 'ACC-000002'"
    )
    assert tuple(plain) == (None,) * 7
    money = (await http.get("/v1/accounts/ACC-000001/money")).json()["itemization"]
    assert (money["basis"], money["interest_minor"], money["fees_minor"]) == (
        "charge_off",
        12_025,
        3_500,
    )
