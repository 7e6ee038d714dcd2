"""Money parsing: decimal strings to minor units per currency exponent, and back."""

from __future__ import annotations

import pytest
from dunning_ledger.domain.money import MoneyError, format_minor, parse_minor
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1234.50", "USD", 123450),
        ("1234.5", "USD", 123450),
        ("1234", "USD", 123400),
        ("0", "USD", 0),
        ("0.01", "USD", 1),
        (".5", "USD", 50),
        (" 12.00 ", "EUR", 1200),
        ("1234", "JPY", 1234),
        ("1.234", "KWD", 1234),
        ("1.2300", "USD", 123),  # trailing zeros beyond the exponent are harmless
    ],
)
def test_parses_decimal_text_to_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("-5.00", "USD", "negative"),
        ("12.345", "USD", "more than 2 decimal places"),
        ("1.5", "JPY", "more than 0 decimal places"),
        ("1,234.50", "USD", "not a decimal amount"),
        ("1e3", "USD", "not a decimal amount"),
        ("abc", "USD", "not a decimal amount"),
        ("", "USD", "not a decimal amount"),
        ("NaN", "USD", "not a decimal amount"),
        ("10", "XYZ", "unknown currency"),
    ],
)
def test_refuses_what_is_not_an_amount(text: str, currency: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        parse_minor(text, currency)


def test_negative_amounts_only_when_asked() -> None:
    assert parse_minor("-5.25", "USD", allow_negative=True) == -525


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(123450, "USD", "1234.50"), (5, "USD", "0.05"), (1234, "JPY", "1234"), (1, "KWD", "0.001")],
)
def test_formats_minor_units(minor: int, currency: str, text: str) -> None:
    assert format_minor(minor, currency) == text


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["USD", "JPY", "KWD"]))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_minor(format_minor(minor, currency), currency) == minor
