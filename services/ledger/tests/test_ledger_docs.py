"""The operator's guide stays true: every import column documented, its example file imports."""

from __future__ import annotations

from dunning_core.contracts.account_import import IMPORT_COLUMNS
from dunning_ledger.domain.import_rows import validate_csv
from dunning_testkit.paths import REPO

GUIDE = REPO / "docs" / "operators.md"


def test_every_import_column_has_its_row_in_the_operators_guide() -> None:
    rows = {
        line.split("|")[1].strip().strip("`")
        for line in GUIDE.read_text().splitlines()
        if line.startswith("| `")
    }
    assert set(IMPORT_COLUMNS) <= rows, sorted(set(IMPORT_COLUMNS) - rows)


def test_the_guides_example_portfolio_imports() -> None:
    result = validate_csv((REPO / "docs" / "examples" / "portfolio.csv").read_bytes())
    assert result.errors == (), result.errors
    assert [a.account_id for a in result.accounts] == ["ACC-1001", "ACC-1002", "ACC-1003"]
