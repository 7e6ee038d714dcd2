"""Business days (no Saturdays, Sundays or US federal holidays) and the Reg F validation
period that is counted in them.

Reg F 1006.34(b)(5): the consumer may be assumed to receive validation information on
any date at least 5 days after it was sent, excluding Saturdays, Sundays and legal
public holidays; the validation period ends 30 days after that receipt. Holidays come
from the `holidays` package (US federal calendar, observed dates included).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dunning_core.time_windows import day_start


@lru_cache(maxsize=128)
def us_federal_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", years=year).keys())


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in us_federal_holidays(day.year)


def add_business_days(day: date, count: int) -> date:
    """The date `count` business days after `day` (`day` itself is not counted)."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def latest_end_of_day(day: date, zones: Sequence[ZoneInfo]) -> datetime:
    """The instant `day` has ended in every zone (the latest local midnight after it)."""
    following = day + timedelta(days=1)
    return max(day_start(zone, following) for zone in zones)


@lru_cache(maxsize=4096)
def validation_period_end(
    sent_at: datetime, zones: tuple[ZoneInfo, ...], receipt_business_days: int, period_days: int
) -> datetime:
    """The instant the validation period is over in every candidate zone.

    The sending date is taken as the latest local date across zones, and the period's
    last day ends at the latest local midnight: both err on the side of a longer period.
    """
    sent_day = max(sent_at.astimezone(zone).date() for zone in zones)
    receipt = add_business_days(sent_day, receipt_business_days)
    return latest_end_of_day(receipt + timedelta(days=period_days), zones)
