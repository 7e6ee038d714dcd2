"""Candidate time zones of a consumer, computed apart from the services (the checker's own).

A state's zones (every zone a part of the state observes) and each phone number's zones
(``phonenumbers``' area-code data), plus any zones the account event names itself.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
from phonenumbers import timezone as phone_timezone

E, C, M, P = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
STATE_ZONES: dict[str, tuple[str, ...]] = {
    "AL": (C,), "AK": ("America/Anchorage", "America/Adak"), "AZ": ("America/Phoenix", M),
    "AR": (C,), "CA": (P,), "CO": (M,), "CT": (E,), "DE": (E,), "DC": (E,),
    "FL": (E, C), "GA": (E,), "HI": ("Pacific/Honolulu",), "ID": (M, P), "IL": (C,),
    "IN": ("America/Indiana/Indianapolis", C), "IA": (C,), "KS": (C, M), "KY": (E, C),
    "LA": (C,), "ME": (E,), "MD": (E,), "MA": (E,), "MI": ("America/Detroit", C),
    "MN": (C,), "MS": (C,), "MO": (C,), "MT": (M,), "NE": (C, M), "NV": (P,), "NH": (E,),
    "NJ": (E,), "NM": (M,), "NY": (E,), "NC": (E,), "ND": (C, M), "OH": (E,), "OK": (C,),
    "OR": (P, M), "PA": (E,), "RI": (E,), "SC": (E,), "SD": (C, M), "TN": (C, E), "TX": (C, M),
    "UT": (M,), "VT": (E,), "VA": (E,), "WA": (P,), "WV": (E,), "WI": (C,), "WY": (M,),
    "PR": ("America/Puerto_Rico",), "GU": ("Pacific/Guam",), "VI": ("America/St_Thomas",),
}  # fmt: skip


def phone_zones(number: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_timezone.time_zones_for_number(parsed)
    return tuple(z for z in zones if z != "Etc/Unknown")


def candidate_zones(state: str, phones: Iterable[str], named: Iterable[str] = ()) -> set[str]:
    zones = set(STATE_ZONES.get(state.upper(), (E, C, M, P, "America/Anchorage")))
    for number in phones:
        zones.update(phone_zones(number))
    zones.update(named)
    return zones
