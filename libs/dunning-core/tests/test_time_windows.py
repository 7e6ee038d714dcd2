"""Local windows across zones and the next allowed instant: examples and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dunning_core.time_windows import (
    next_instant,
    next_window_start,
    wall_instants,
    window_allows,
)
from hypothesis import given, settings
from hypothesis import strategies as st

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
LA = ZoneInfo("America/Los_Angeles")
PHX = ZoneInfo("America/Phoenix")
HNL = ZoneInfo("Pacific/Honolulu")
ANC = ZoneInfo("America/Anchorage")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # a 30-minute DST shift
EIGHT, NINE_PM = time(8), time(21)


def test_window_is_half_open_to_the_microsecond() -> None:
    just_before = datetime(2025, 7, 1, 20, 59, 59, 999999, tzinfo=NY)
    assert window_allows(just_before, [NY], EIGHT, NINE_PM)
    assert not window_allows(datetime(2025, 7, 1, 21, 0, tzinfo=NY), [NY], EIGHT, NINE_PM)
    assert window_allows(datetime(2025, 7, 1, 8, 0, tzinfo=NY), [NY], EIGHT, NINE_PM)


def test_wall_instants_in_gap_and_overlap() -> None:
    assert wall_instants(NY, date(2025, 3, 9), time(2, 30)) == []  # spring forward
    twice = wall_instants(NY, date(2025, 11, 2), time(1, 30))  # fall back
    assert [t.hour for t in twice] == [5, 6]


def test_next_start_across_spring_forward() -> None:
    now = datetime(2025, 3, 9, 1, 30, tzinfo=NY)  # EST
    assert next_window_start(now, [NY], EIGHT, NINE_PM) == datetime(2025, 3, 9, 12, tzinfo=UTC)


def test_window_starting_inside_the_gap_opens_at_the_transition() -> None:
    now = datetime(2025, 3, 9, 1, 30, tzinfo=NY)
    result = next_window_start(now, [NY], time(2, 30), NINE_PM)
    assert result == datetime(2025, 3, 9, 7, 0, tzinfo=UTC)  # 03:00 EDT, first instant >= 02:30


def test_window_reopens_in_the_repeated_hour() -> None:
    now = datetime(2025, 11, 2, 1, 15, tzinfo=NY, fold=1)  # second 01:15 (EST)
    result = next_window_start(now, [NY], time(1, 30), NINE_PM)
    assert result == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # the second 01:30


def test_no_overlap_returns_none() -> None:
    guam = ZoneInfo("Pacific/Guam")
    now = datetime(2025, 1, 6, 12, tzinfo=UTC)
    assert next_window_start(now, [HNL, guam], time(8), time(10)) is None


# --- properties --------------------------------------------------------------------

ZONES = [NY, CHI, LA, PHX, HNL, ANC, LORD_HOWE, ZoneInfo("Europe/London")]

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
# Instants within a day and a half of a DST change somewhere in ZONES.
_CHANGES = [
    datetime(2025, 3, 9, 7, tzinfo=UTC),  # US spring forward
    datetime(2025, 11, 2, 6, tzinfo=UTC),  # US fall back
    datetime(2025, 3, 30, 1, tzinfo=UTC),  # London
    datetime(2025, 10, 26, 1, tzinfo=UTC),
    datetime(2025, 4, 5, 15, tzinfo=UTC),  # Lord Howe, 30-minute change
    datetime(2025, 10, 4, 15, 30, tzinfo=UTC),
]
near_changes = st.builds(
    lambda change, minutes: change + timedelta(minutes=minutes),
    st.sampled_from(_CHANGES),
    st.integers(-36 * 60, 36 * 60),
)
zone_sets = st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True)


@st.composite
def windows(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(st.integers(0, 22 * 60))
    length = draw(st.integers(30, 24 * 60 - 1 - start))
    end = start + length
    return time(start // 60, start % 60), time(end // 60, end % 60)


def _oracle(at: datetime, zones: list[ZoneInfo], start: time, end: time) -> bool:
    """Minutes-of-day arithmetic on each zone's local time, written independently."""
    low = start.hour * 60 + start.minute
    high = end.hour * 60 + end.minute
    for zone in zones:
        local = at.astimezone(zone)
        minutes = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        if not low <= minutes < high:
            return False
    return True


@settings(max_examples=150, deadline=None)
@given(instants, zone_sets, windows())
def test_allowed_iff_local_time_in_window_in_all_zones(
    at: datetime, zones: list[ZoneInfo], window: tuple[time, time]
) -> None:
    start, end = window
    assert window_allows(at, zones, start, end) == _oracle(at, zones, start, end)


@settings(max_examples=300, deadline=None)
@given(instants | near_changes, zone_sets, windows())
def test_next_allowed_instant_is_allowed_not_early_and_the_first(
    now: datetime, zones: list[ZoneInfo], window: tuple[time, time]
) -> None:
    start, end = window
    result = next_window_start(now, zones, start, end)
    if result is None:
        # No overlap within the horizon: then no minute within 7 days is allowed either.
        probe = now
        while probe < now + timedelta(days=7):
            assert not _oracle(probe, zones, start, end)
            probe += timedelta(minutes=1)
        return
    assert result >= now
    assert _oracle(result, zones, start, end)
    # Nothing allowed strictly between now and the result, at minute granularity.
    probe = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while probe < result:
        assert not _oracle(probe, zones, start, end), probe
        probe += timedelta(minutes=1)


inconvenient = st.tuples(st.integers(0, 23), st.integers(0, 23), st.sets(st.integers(0, 6)))


@settings(max_examples=80, deadline=None)
@given(instants | near_changes, zone_sets, windows(), inconvenient)
def test_next_instant_for_a_composite_predicate(
    now: datetime,
    zones: list[ZoneInfo],
    window: tuple[time, time],
    blocked: tuple[int, int, set[int]],
) -> None:
    """Window AND not (a weekday-specific hour range): still exact and first."""
    start, end = window
    low, high, weekdays = blocked

    def allowed(at: datetime) -> bool:
        if not _oracle(at, zones, start, end):
            return False
        for zone in zones:
            local = at.astimezone(zone)
            if low <= local.hour < high and (not weekdays or local.weekday() in weekdays):
                return False
        return True

    marks = (start, end, time(low), time(high), time(0))
    result = next_instant(now, zones, allowed, marks, horizon_days=9)
    if result is None:
        return
    assert result >= now
    assert allowed(result)
    probe = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while probe < result:
        assert not allowed(probe)
        probe += timedelta(minutes=1)
