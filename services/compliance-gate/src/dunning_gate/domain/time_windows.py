"""Local wall-clock windows across several IANA zones, correct across DST changes.

A predicate such as "08:00 <= local time < 21:00 in every candidate zone" changes value
only where some zone's local wall time crosses one of the window's marks (08:00, 21:00)
or where a zone changes its UTC offset (DST). So the earliest instant at or after `now`
that satisfies it is `now` itself or one of those breakpoints: `next_instant` enumerates
them in time order, day by day, and returns the first that satisfies the predicate.

Wall times are turned into instants with both folds and kept only if they round-trip:
a wall time inside a spring-forward gap does not exist (the offset change itself is the
breakpoint), and one inside a fall-back overlap exists twice (both are breakpoints).
All instants returned are UTC.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Predicate = Callable[[datetime], bool]

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
MIDNIGHT = time(0, 0)


def window_allows(at: datetime, zones: Sequence[ZoneInfo], start: time, end: time) -> bool:
    """start <= local wall time < end in every zone (seconds and microseconds count)."""
    for zone in zones:
        local = at.astimezone(zone).time()
        if local < start or local >= end:
            return False
    return True


def day_start(zone: ZoneInfo, day: date) -> datetime:
    """The UTC instant of local 00:00 on `day` (first fold; strictly increasing in day)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def latest_day_start(days_after: int, instant: datetime, zones: Sequence[ZoneInfo]) -> datetime:
    """The latest, across zones, of local midnight `days_after` days after the local
    date of `instant`: when a calendar-day window containing `instant` has passed
    everywhere."""
    return max(
        day_start(zone, instant.astimezone(zone).date() + timedelta(days=days_after))
        for zone in zones
    )


def wall_instants(zone: ZoneInfo, day: date, wall: time) -> list[datetime]:
    """UTC instants whose local wall time in `zone` is exactly `day` `wall`.

    None in a spring-forward gap, two in a fall-back overlap."""
    naive = datetime.combine(day, wall)
    found: list[datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    return found


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def _offset_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """First instant in (low, high] with the offset at `high` (to the second)."""
    before = _offset(zone, low)
    while high - low > _ONE_SECOND:
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            middle = low + _ONE_SECOND
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def next_instant(
    now: datetime,
    zones: Sequence[ZoneInfo],
    allowed: Predicate,
    marks: Iterable[time],
    extra: Iterable[datetime] = (),
    horizon_days: int = 8,
) -> datetime | None:
    """Earliest instant >= now where `allowed` holds, or None within `horizon_days`.

    `allowed` must depend only on the local wall time (date, time, weekday) in `zones`,
    changing value only at the wall times in `marks`, plus on intervals whose boundary
    instants are given in `extra`.
    """
    if allowed(now):
        return now
    wall_marks = sorted(set(marks))
    heap = [instant for instant in extra if instant > now]
    heapq.heapify(heap)
    first_days = [now.astimezone(zone).date() for zone in zones]
    for offset_days in range(-1, horizon_days + 1):
        bound: datetime | None = None
        for zone, first_day in zip(zones, first_days, strict=True):
            day = first_day + timedelta(days=offset_days)
            for wall in wall_marks:
                for instant in wall_instants(zone, day, wall):
                    if instant > now:
                        heapq.heappush(heap, instant)
            low, high = day_start(zone, day), day_start(zone, day + _ONE_DAY)
            if _offset(zone, low) != _offset(zone, high):
                change = _offset_change(zone, low, high)
                if change > now:
                    heapq.heappush(heap, change)
            bound = high if bound is None else min(bound, high)
        # Nothing generated in later rounds can precede `bound`.
        while heap and (bound is None or heap[0] < bound):
            candidate = heapq.heappop(heap)
            if allowed(candidate):
                return candidate
    return None


def next_window_start(
    now: datetime, zones: Sequence[ZoneInfo], start: time, end: time
) -> datetime | None:
    """Earliest instant >= now inside [start, end) local in every zone."""
    return next_instant(now, zones, lambda at: window_allows(at, zones, start, end), (start, end))
