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
from functools import lru_cache
from zoneinfo import ZoneInfo

Predicate = Callable[[datetime], bool]

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_LOOK_BACK = timedelta(hours=26)
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
    # Constructors, not .replace(): keyword replace costs ~1 µs a call in CPython 3.11.
    offset = datetime(day.year, day.month, day.day, 0, 0, 0, 0, zone).utcoffset()
    assert offset is not None
    return datetime(day.year, day.month, day.day, 0, 0, 0, 0, UTC) - offset


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
    y, m, d = day.year, day.month, day.day
    h, mi, sec, us = wall.hour, wall.minute, wall.second, wall.microsecond
    first = datetime(y, m, d, h, mi, sec, us, zone).utcoffset()
    second = datetime(y, m, d, h, mi, sec, us, zone, fold=1).utcoffset()
    assert first is not None
    assert second is not None
    as_utc = datetime(y, m, d, h, mi, sec, us, UTC)
    if first == second:
        return [as_utc - first]
    if first > second:  # the clock went back: this wall time happens twice
        return [as_utc - first, as_utc - second]
    return []  # the clock jumped forward over it


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


def _went_back_lately(zone: ZoneInfo, now: datetime) -> bool:
    """Whether the zone's clock was set back within the last 26 hours (so wall times of
    the previous local date may still lie ahead)."""
    earlier = _offset(zone, now - _LOOK_BACK)
    current = _offset(zone, now)
    return earlier is not None and current is not None and earlier > current


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
    first_round = -1 if any(_went_back_lately(zone, now) for zone in zones) else 0
    day_starts: dict[tuple[int, int], datetime] = {}

    def start_of(index: int, zone: ZoneInfo, day: date, offset_days: int) -> datetime:
        key = (index, offset_days)
        found = day_starts.get(key)
        if found is None:
            found = day_starts[key] = day_start(zone, day)
        return found

    for offset_days in range(first_round, horizon_days + 1):
        bound: datetime | None = None
        for index, (zone, first_day) in enumerate(zip(zones, first_days, strict=True)):
            day = first_day + timedelta(days=offset_days)
            for wall in wall_marks:
                for instant in wall_instants(zone, day, wall):
                    if instant > now:
                        heapq.heappush(heap, instant)
            low = start_of(index, zone, day, offset_days)
            high = start_of(index, zone, day + _ONE_DAY, offset_days + 1)
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


def _next_opening(zone: ZoneInfo, at: datetime, start: time) -> datetime | None:
    """Next instant after `at` at which local time in `zone` reaches `start`, when the
    wall clock runs plainly (no offset change) until then; None otherwise."""
    local = at.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + _ONE_DAY
    found = wall_instants(zone, day, start)
    if len(found) != 1:
        return None
    opening = found[0]
    if opening <= at or local.utcoffset() != _offset(zone, opening):
        return None
    return opening


def next_window_start(
    now: datetime, zones: Sequence[ZoneInfo], start: time, end: time
) -> datetime | None:
    """Earliest instant >= now inside [start, end) local in every zone.

    Fast path: jump to the next opening of each zone that is closed, until all are open
    (each jump is a lower bound of the answer, so the first instant open everywhere is
    the earliest). Any DST change on the way hands over to the exhaustive `next_instant`.
    """
    candidate = now
    for _ in range(2 * len(zones) + 2):
        latest = candidate
        for zone in zones:
            local = candidate.astimezone(zone).time()
            if start <= local < end:
                continue
            opening = _next_opening(zone, candidate, start)
            if opening is None:
                return _exhaustive(now, zones, start, end)
            latest = max(latest, opening)
        if latest == candidate:
            return candidate
        candidate = latest
    return _exhaustive(now, zones, start, end)


def _exhaustive(
    now: datetime, zones: Sequence[ZoneInfo], start: time, end: time
) -> datetime | None:
    return next_instant(now, zones, lambda at: window_allows(at, zones, start, end), (start, end))


def outside(allowed: Predicate) -> Predicate:
    """The predicate that holds where `allowed` does not: `next_instant` of it is the close
    of the window `now` is in (None if `allowed` holds throughout the horizon)."""
    return lambda at: not allowed(at)


@lru_cache(maxsize=4096)
def _plain_wall_instant(zone: ZoneInfo, day: date, wall: time) -> tuple[datetime, timedelta] | None:
    """The one instant of `day` `wall` in `zone` and the offset then (None: none or two)."""
    found = wall_instants(zone, day, wall)
    if len(found) != 1:
        return None
    offset = _offset(zone, found[0])
    assert offset is not None
    return found[0], offset


def _plain_close(zone: ZoneInfo, at: datetime, end: time) -> datetime | None:
    """The instant local time in `zone` next reaches `end` after `at`, when the wall clock
    runs plainly (no offset change) until then; None otherwise."""
    local = at.astimezone(zone)
    day = local.date() if local.time() < end else local.date() + _ONE_DAY
    found = _plain_wall_instant(zone, day, end)  # the same few days, decision after decision
    if found is None or found[0] <= at or local.utcoffset() != found[1]:
        return None
    return found[0]


def window_close(
    now: datetime, zones: Sequence[ZoneInfo], start: time, end: time
) -> datetime | None:
    """When [start, end) local time stops holding in some zone: the earliest local `end`
    over the zones, or a DST change that moves a zone's wall clock out of the window
    before it (`now` itself when it is outside already).

    Fast path: each zone's next local `end`; a DST change on the way hands over to the
    exhaustive `next_instant` of `outside` the window."""
    if not window_allows(now, zones, start, end):
        return now
    closes = [_plain_close(zone, now, end) for zone in zones]
    if all(close is not None for close in closes):
        return min(c for c in closes if c is not None)
    return next_instant(
        now, zones, outside(lambda at: window_allows(at, zones, start, end)), (start, end)
    )


def earliest_day_end(at: datetime, zones: Sequence[ZoneInfo]) -> datetime:
    """The first local midnight after `at` in any zone: when the local day of `at` ends
    somewhere (a calendar-day window that counted `at` on its day closes there)."""
    return min(day_start(zone, at.astimezone(zone).date() + timedelta(days=1)) for zone in zones)
