"""Money as the ledger keeps it: an integer count of minor units of an ISO 4217 currency.

Amounts arrive as decimal strings ("1234.50"); floats never enter the arithmetic. A
currency's exponent says how many minor units make a major one (USD 2, JPY 0, KWD 3).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

# ISO 4217 minor-unit exponents of the currencies the ledger accepts.
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "USD": 2,
    "CAD": 2,
    "MXN": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "AUD": 2,
    "NZD": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}

MAX_MINOR: Final = 10**15
"""The largest amount the ledger holds, in minor units (sums stay far from 64-bit limits)."""

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class MoneyError(ValueError):
    """An amount or currency the ledger cannot accept; the message says why."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(
            f"unknown currency {currency!r}; use an ISO 4217 code such as USD"
        ) from None


def parse_minor(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """Minor units of a decimal string in ``currency``: ``parse_minor("1234.5", "USD") == 123450``.

    Refuses thousands separators, exponents, more decimals than the currency has (unless
    they are zeros) and, unless ``allow_negative``, amounts below zero.
    """
    exponent = currency_exponent(currency)
    cleaned = text.strip()
    if not _DECIMAL.match(cleaned):
        raise MoneyError(f"{text!r} is not a decimal amount such as 1234.50")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise MoneyError(f"{text!r} is not a decimal amount") from None
    if value < 0 and not allow_negative:
        raise MoneyError(f"{text!r} is negative; amounts must be zero or more")
    scaled = value.scaleb(exponent)
    if abs(scaled) > MAX_MINOR:
        largest = format_minor(MAX_MINOR, currency)
        raise MoneyError(f"{text!r} is more than the largest amount the ledger holds ({largest})")
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{text!r} has more than {exponent} decimal places for {currency}")
    return int(scaled)


def format_minor(amount_minor: int, currency: str) -> str:
    """The decimal string of an amount: ``format_minor(123450, "USD") == "1234.50"``."""
    exponent = currency_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exponent)
    return f"{value:.{exponent}f}"
