"""Money and dates in the consumer's locale, fast: Babel is asked once, then reused.

Babel's ``format_currency`` costs ~138 µs a call (PERF-NOTES.md). A ``CurrencyFormatter``
asks Babel once per (currency, locale) how a sentinel amount looks, keeps the prefix,
suffix and separators, and formats integers itself; it checks itself against Babel on
probe amounts when built and falls back to Babel (cached) for any locale whose rules it
does not reproduce (Indian grouping, minimum grouping digits, negative amounts).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
)

_SENTINEL_UNITS = 1234567
_PROBES = (0, 1, 5, 99, 100, 999, 1000, 1234, 9999, 12345, 123456, 1234567, 98765432109)
DEFAULT_LOCALE = "en_US"


@lru_cache(maxsize=256)
def babel_locale(name: str) -> str:
    """A locale name Babel knows (``es-US`` → ``es_US``), else the default."""
    candidate = name.replace("-", "_")
    try:
        Locale.parse(candidate)
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE
    return candidate


@lru_cache(maxsize=4096)
def _babel_currency(amount_minor: int, currency: str, locale: str, digits: int) -> str:
    return format_currency(Decimal(amount_minor).scaleb(-digits), currency, locale=locale)


class CurrencyFormatter:
    """Formats integer minor units of one currency as one locale writes them."""

    def __init__(self, currency: str, locale: str) -> None:
        self.currency = currency
        self.locale = babel_locale(locale)
        self.digits = get_currency_precision(currency)
        self._scale = 10**self.digits
        self._group = get_group_symbol(self.locale)
        self._decimal = get_decimal_symbol(self.locale)
        self._affixes = self._derive()
        if self._affixes is not None and any(self._fast(p) != self._slow(p) for p in _PROBES):
            self._affixes = None

    @property
    def fast(self) -> bool:
        return self._affixes is not None

    def __call__(self, amount_minor: int) -> str:
        if self._affixes is None or amount_minor < 0:
            return self._slow(amount_minor)
        return self._fast(amount_minor)

    def _number(self, amount_minor: int) -> str:
        units, minor = divmod(amount_minor, self._scale)
        text = f"{units:,}"
        if self._group != ",":
            text = text.replace(",", self._group)
        if self.digits:
            text = f"{text}{self._decimal}{minor:0{self.digits}d}"
        return text

    def _derive(self) -> tuple[str, str] | None:
        sentinel = _SENTINEL_UNITS * self._scale + (self._scale - 1 if self.digits else 0)
        rendered = self._slow(sentinel)
        number = self._number(sentinel)
        if rendered.count(number) != 1:
            return None
        prefix, suffix = rendered.split(number)
        return prefix, suffix

    def _fast(self, amount_minor: int) -> str:
        assert self._affixes is not None
        prefix, suffix = self._affixes
        return f"{prefix}{self._number(amount_minor)}{suffix}"

    def _slow(self, amount_minor: int) -> str:
        return _babel_currency(amount_minor, self.currency, self.locale, self.digits)


class Formatters:
    """The formatters of one process: one ``CurrencyFormatter`` per (currency, locale), and
    long dates memoised (a portfolio has few distinct due dates)."""

    def __init__(self, date_cache_size: int = 20_000) -> None:
        self._currency: dict[tuple[str, str], CurrencyFormatter] = {}
        self._dates: dict[tuple[date, str], str] = {}
        self._date_cache_size = date_cache_size

    def currency_formatter(self, currency: str, locale: str) -> CurrencyFormatter:
        key = (currency, locale)
        formatter = self._currency.get(key)
        if formatter is None:
            formatter = self._currency[key] = CurrencyFormatter(currency, locale)
        return formatter

    def money(self, amount_minor: int, currency: str, locale: str) -> str:
        return self.currency_formatter(currency, locale)(amount_minor)

    def long_date(self, day: date, locale: str) -> str:
        key = (day, locale)
        text = self._dates.get(key)
        if text is None:
            if len(self._dates) >= self._date_cache_size:
                self._dates.clear()
            text = self._dates[key] = format_date(day, format="long", locale=babel_locale(locale))
        return text
