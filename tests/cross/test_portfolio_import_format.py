"""The CLI's sample portfolio and the ledger's import format share one column list."""

from __future__ import annotations

from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import IMPORT_COLUMNS, to_csv
from dunning_ledger.domain.import_format import COLUMNS
from dunning_ledger.domain.import_rows import validate_csv


def test_the_ledger_reads_the_columns_the_contract_names() -> None:
    assert COLUMNS == IMPORT_COLUMNS


def test_the_sample_portfolio_imports_without_an_error() -> None:
    validated = validate_csv(to_csv(sample_rows(200, 7)))

    assert validated.errors == ()
    assert len(validated.accounts) == 200
