"""Placing steps in the consumer's local day, with IANA zones (never fixed offsets)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dunning_core.contracts.events import Consumer

from dunning_scheduler.policy.model import EscalationPolicy, SendWindow

# The zone of most of each state's population; the gate still checks every candidate zone.
STATE_ZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DC": "America/New_York", "DE": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "PR": "America/Puerto_Rico", "GU": "Pacific/Guam", "VI": "America/St_Thomas",
}  # fmt: skip


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def candidate_zones(consumer: Consumer, policy: EscalationPolicy) -> tuple[ZoneInfo, ...]:
    """The consumer's zones, first the primary one: given, else by state, else the fallback."""
    names = consumer.time_zones or (STATE_ZONES.get(consumer.state, policy.fallback_time_zone),)
    zones = tuple(z for z in (zone(n) for n in names) if z is not None)
    if zones:
        return zones
    fallback = zone(policy.fallback_time_zone)
    return (fallback,) if fallback is not None else (ZoneInfo("UTC"),)


def at_preferred_hour(day: date, tz: ZoneInfo, window: SendWindow) -> datetime:
    """``day`` at the preferred local hour, as a UTC instant."""
    return datetime.combine(day, time(window.preferred_hour), tz).astimezone(UTC)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def days_later(instant: datetime, days: int, tz: ZoneInfo, window: SendWindow) -> datetime:
    """``days`` local days after ``instant``, at the preferred local hour."""
    return at_preferred_hour(local_date(instant, tz) + timedelta(days=days), tz, window)


def in_window(instant: datetime, zones: tuple[ZoneInfo, ...], window: SendWindow) -> bool:
    """Whether the instant falls in the send window in every candidate zone."""
    for tz in zones:
        local = instant.astimezone(tz)
        if not window.start_hour <= local.hour < window.end_hour:
            return False
    return True


def first_send_at(now: datetime, zones: tuple[ZoneInfo, ...], window: SendWindow) -> datetime:
    """Now if it is a good local time everywhere, else the next preferred local hour."""
    if in_window(now, zones, window):
        return now
    primary = zones[0]
    today = at_preferred_hour(local_date(now, primary), primary, window)
    return today if today > now else days_later(now, 1, primary, window)
