"""The optional Regulation F itemization columns of an import row (pure).

| column | value |
|---|---|
| itemization_date | `YYYY-MM-DD`: the itemization date |
| itemization_basis | the reference date it is: last_statement, charge_off, last_payment, |
| | transaction, judgment |
| itemization_amount | decimal in major units: owed on the itemization date |
| itemization_interest | decimal in major units, >= 0 (default 0): added since |
| itemization_fees | decimal in major units, >= 0 (default 0): added since |
| itemization_payments | decimal in major units, >= 0 (default 0): taken off since |
| itemization_credits | decimal in major units, >= 0 (default 0): taken off since |

All empty: the row has no itemization (the page itemizes from the due or charge-off date).
Any given: the date, basis and amount are required, and the balance must equal
``amount + interest + fees - payments - credits`` to the minor unit (the error, on
``balance``, shows the sum). A row without these columns costs one look per column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, get_args

from dunning_core.contracts.events import Itemization, ItemizationBasis

from dunning_ledger.domain.import_format import parse_date
from dunning_ledger.domain.money import MoneyError, format_minor, parse_minor

COLUMNS: Final = (
    "itemization_date",
    "itemization_basis",
    "itemization_amount",
    "itemization_interest",
    "itemization_fees",
    "itemization_payments",
    "itemization_credits",
)
BASES: Final[tuple[str, ...]] = get_args(ItemizationBasis)

Fail = Callable[[str, str], None]


def read_itemization(
    values: Mapping[str, str], currency: str, balance_minor: int | None, fail: Fail
) -> Itemization | None:
    """The row's itemization, None when it has none; each problem goes to ``fail``."""
    given = {c: v.strip() for c in COLUMNS if (v := values.get(c)) and v.strip()}
    if not given:
        return None
    day = None
    if "itemization_date" not in given:
        fail("itemization_date", "is required with an itemization")
    else:
        day = parse_date(given["itemization_date"])
        if day is None:
            fail("itemization_date", f"{given['itemization_date']!r} is not a date YYYY-MM-DD")
    basis = given.get("itemization_basis", "").lower()
    if not basis:
        fail("itemization_basis", "is required with an itemization")
    elif basis not in BASES:
        fail(
            "itemization_basis", f"{given['itemization_basis']!r} is not one of {', '.join(BASES)}"
        )
    amounts: dict[str, int] = {}
    for column in COLUMNS[2:]:
        text = given.get(column)
        if text is None:
            if column == "itemization_amount":
                fail(column, "is required with an itemization")
            continue
        try:
            amounts[column] = parse_minor(text, currency)
        except MoneyError as exc:
            fail(column, str(exc))
    if day is None or basis not in BASES or "itemization_amount" not in amounts:
        return None
    if len(amounts) < len(given) - 2:  # an amount was refused above
        return None
    item = Itemization(
        itemization_date=day,
        basis=basis,
        amount_minor=amounts["itemization_amount"],
        interest_minor=amounts.get("itemization_interest", 0),
        fees_minor=amounts.get("itemization_fees", 0),
        payments_minor=amounts.get("itemization_payments", 0),
        credits_minor=amounts.get("itemization_credits", 0),
    )
    total = (
        item.amount_minor + item.interest_minor + item.fees_minor
        - item.payments_minor - item.credits_minor
    )  # fmt: skip
    if balance_minor is not None and total != balance_minor:

        def show(minor: int) -> str:
            return format_minor(minor, currency)

        fail(
            "balance",
            f"{show(balance_minor)} is not the itemization's {show(total)} (amount "
            f"{show(item.amount_minor)} + interest {show(item.interest_minor)} + fees "
            f"{show(item.fees_minor)} - payments {show(item.payments_minor)} - credits "
            f"{show(item.credits_minor)})",
        )
        return None
    return item
