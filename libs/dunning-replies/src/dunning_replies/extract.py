"""Dates and amounts in a reply: "I'll pay $50 on Friday", "pagaré 100 el 15 de enero",
"我下周五还500".

Dates resolve in the consumer's zone relative to `today` (their local date), always to
a day not in the past: a weekday is its next occurrence after today ("Friday" said on a
Friday is next week's; "next Friday" is read the same), a day of the month this month or
the next, a month and day this year or the next. Month names go through `dateparser`
(each language's month names and word order); the forms it reads poorly (weekdays in
Spanish, Chinese dates, "下周五") are resolved here from the vocabulary's date words.

Amounts: a currency sign or word beside a number ("$50", "100 dólares", "500块"), or a
bare number right after a pay verb ("pagaré 100", "还500"), in the account's currency
when the text names none. Kept in minor units.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import dateparser

from dunning_replies.text import clean
from dunning_replies.vocabulary import LanguageVocabulary


@dataclass(frozen=True, slots=True)
class Amount:
    """Money the consumer named, in minor units (cents) of `currency`."""

    minor_units: int
    currency: str

    def as_dict(self) -> dict[str, int | str]:
        return {"minor_units": self.minor_units, "currency": self.currency}


_NUMBER = r"\d(?:[\d,.]*\d)?"
_SIGNS = {"$": "USD", "us$": "USD", "€": "EUR", "¥": "CNY", "£": "GBP"}
_SIGN_BEFORE = re.compile(r"(us\$|\$|€|¥|£)\s?(" + _NUMBER + ")")
_SIGN_AFTER = re.compile(r"(" + _NUMBER + r")\s?(\$|€)")
_NUMERIC_DATE = re.compile(r"(?<![\d$.,])(\d{1,4})[/-](\d{1,2})(?:[/-](\d{2,4}))?(?![\d%])")
_ORDINAL_DAY = re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b")
_ES_DAY = re.compile(
    r"\b(?:el|dia|del)\s+(?:dia\s+)?(\d{1,2})\b(?!\s*(?:dolares|dolar|usd|pesos|\$|%))"
)
_HAN_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})[日号]?")
_HAN_DAY = re.compile(r"(\d{1,2})[号日]")
_MONTH_SPAN = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+|of\s+)?([a-z]{3,10})\b|\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"
)
# English and Spanish month names by their first three letters (dateparser reads the rest).
_MONTH_PREFIXES = frozenset(
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
    | {"ene", "abr", "ago", "dic"}
)
_HAN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_HAN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_HAN_NUMERAL = re.compile(
    r"[零一二两三四五六七八九十百千万]+(?=[号日块元美刀月])|(?<=[还付交给])[零一二两三四五六七八九十百千万]+"
)


def folded(text: str) -> str:
    """Case-folded and accent-free, punctuation kept (amounts and numeric dates need it);
    Chinese numerals before 号/块/… or after 还/付 turned into digits."""
    text = clean(text)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        text = _HAN_NUMERAL.sub(lambda m: str(_han_number(m.group())), text)
    return text.casefold()


def _han_number(numeral: str) -> int:
    total, section, digit = 0, 0, 0
    for char in numeral:
        if char in _HAN_DIGITS:
            digit = _HAN_DIGITS[char]
        elif char == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        else:
            section += (digit or 1) * _HAN_UNITS[char]
            digit = 0
    return total + section + digit


def _decimal(number: str) -> Decimal | None:
    """1,234.56 / 1.234,56 / 1.500 / 50: the last separator followed by exactly two
    digits is the decimal point; the others group thousands."""
    last = max(number.rfind(","), number.rfind("."))
    if last != -1 and len(number) - last - 1 == 2:
        number = re.sub(r"[,.]", "", number[:last]) + "." + number[last + 1 :]
    else:
        number = re.sub(r"[,.]", "", number)
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def _amount(number: str, currency: str) -> Amount | None:
    value = _decimal(number)
    if value is None or value <= 0 or value > 10_000_000:
        return None
    return Amount(int((value * 100).to_integral_value()), currency)


def find_amount(text: str, languages: Sequence[LanguageVocabulary], currency: str) -> Amount | None:
    """The first amount the message names, or None."""
    folded_text = folded(text)
    if not any(c.isdigit() for c in folded_text):
        return None
    if match := _SIGN_BEFORE.search(folded_text):
        return _amount(match.group(2), _SIGNS[match.group(1)])
    if match := _SIGN_AFTER.search(folded_text):
        return _amount(match.group(1), _SIGNS[match.group(2)])
    for vocabulary in languages:
        gap = r"\s?" if vocabulary.script == "latin" else r"\s*"
        for word, named in vocabulary.currency_words.items():
            pattern = "(" + _NUMBER + ")" + gap + re.escape(word)
            if vocabulary.script == "latin":
                pattern += r"\b"
            if match := re.search(pattern, folded_text):
                return _amount(match.group(1), named or currency)
    for vocabulary in languages:
        for verb in vocabulary.pay_verbs:
            lead = r"\b" if vocabulary.script == "latin" else ""
            pattern = (
                lead + re.escape(verb) + r"\s*(?:you\s+|le\s+|les\s+|te\s+)?(" + _NUMBER + r")"
                r"(?!\s*(?:st|nd|rd|th|de\b|of\b|号|日|月|/|-|am|pm|%)|\d)"
            )
            if match := re.search(pattern, folded_text):
                return _amount(match.group(1), currency)
    return None


def _day_in_month(year: int, month: int, day: int) -> date | None:
    if not 1 <= month <= 12 or day < 1:
        return None
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_day(today: date, month: int, day: int, year: int | None = None) -> date | None:
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2024, month)[1]:
        return None
    if year is not None:
        year = year + 2000 if year < 100 else year
        return _day_in_month(year, month, day)
    found = _day_in_month(today.year, month, day)
    if found is not None and found < today:
        found = _day_in_month(today.year + 1, month, day)
    return found


def _day_of_month(today: date, day: int) -> date | None:
    if not 1 <= day <= 31:
        return None
    found = _day_in_month(today.year, today.month, day)
    if found is not None and found < today:
        month = today.month % 12 + 1
        found = _day_in_month(today.year + (month == 1), month, day)
    return found


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def find_date(
    text: str, padded: str, compact: str, languages: Sequence[LanguageVocabulary], today: date
) -> date | None:
    """The date the message names, resolved on or after `today`, or None."""
    folded_text = folded(text)
    found = _han_date(folded_text, compact, languages, today)
    if found is not None:
        return found
    if match := _NUMERIC_DATE.search(folded_text):
        first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
        order = next((v.dates.order for v in languages if v.script == "latin"), "MDY")
        if first > 31:  # 2027-01-15
            month, day, year = second, int(year or 0), str(first)
        else:
            month, day = (second, first) if order == "DMY" else (first, second)
        if (resolved := _month_day(today, month, day, int(year) if year else None)) is not None:
            return resolved
    if (resolved := _named_month(folded_text, languages, today)) is not None:
        return resolved
    for vocabulary in languages:  # weekdays before relative words: "el lunes en la mañana"
        if vocabulary.script != "latin":
            continue
        for word, weekday in vocabulary.dates.weekdays.items():
            if f" {word} " in padded:
                return _next_weekday(today, weekday)
    match = _ORDINAL_DAY.search(folded_text) or _ES_DAY.search(folded_text)
    if match and (resolved := _day_of_month(today, int(match.group(1)))) is not None:
        return resolved
    for vocabulary in languages:
        if vocabulary.script != "latin":
            continue
        for word, days in sorted(vocabulary.dates.relative.items(), key=lambda i: -len(i[0])):
            if f" {word} " in padded:
                return today + timedelta(days=days)
        if any(f" {word} " in padded for word in vocabulary.dates.month_end):
            return _month_end(today)
    return None


def _month_end(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _named_month(
    folded_text: str, languages: Sequence[LanguageVocabulary], today: date
) -> date | None:
    codes = [v.language for v in languages if v.script == "latin"]
    for match in _MONTH_SPAN.finditer(folded_text):
        word = match.group(2) or match.group(3)
        if word[:3] not in _MONTH_PREFIXES:
            continue
        base = datetime(today.year, today.month, today.day, 12)
        parsed = dateparser.parse(
            match.group(),
            languages=codes,
            settings={
                "RELATIVE_BASE": base,
                "PREFER_DATES_FROM": "future",
                "REQUIRE_PARTS": ["day", "month"],
            },
        )
        if parsed is not None:
            return _month_day(today, parsed.month, parsed.day)
    return None


def _han_date(
    folded_text: str, compact: str, languages: Sequence[LanguageVocabulary], today: date
) -> date | None:
    han = [v for v in languages if v.script == "han"]
    if not han:
        return None
    digits = folded_text.replace(" ", "")
    if match := _HAN_MONTH_DAY.search(digits):
        return _month_day(today, int(match.group(1)), int(match.group(2)))
    for vocabulary in han:
        weekdays = sorted(vocabulary.dates.weekdays.items(), key=lambda i: -len(i[0]))
        for prefix in sorted(vocabulary.dates.next_week, key=len, reverse=True):
            for word, weekday in weekdays:
                if prefix + word[-1] in compact:
                    monday = today + timedelta(days=7 - today.weekday())
                    return monday + timedelta(days=weekday)
        for word, weekday in weekdays:
            if word in compact:
                return _next_weekday(today, weekday)
    match = _HAN_DAY.search(digits)
    if match and (resolved := _day_of_month(today, int(match.group(1)))) is not None:
        return resolved
    for vocabulary in han:
        for word, days in sorted(vocabulary.dates.relative.items(), key=lambda i: -len(i[0])):
            if word in compact:
                return today + timedelta(days=days)
        if any(word.replace(" ", "") in compact for word in vocabulary.dates.month_end):
            return _month_end(today)
    return None
