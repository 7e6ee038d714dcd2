"""Candidate time zones of a consumer, computed apart from the services (the checker's own).

A state's zones (every zone a part of the state observes), narrowed by the ZIP code where
it is certain (COMPLIANCE.md: the address is state and ZIP), each phone number's zones
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


# ZIP-3 areas of the split states where a part keeps the other zone (USPS ZIP-3 areas and the
# time-zone boundaries): Florida's panhandle west of the Apalachicola (324 Panama City, which
# straddles it, and 325 Pensacola), Texas's far west (798-799 and 885, El Paso) and, in
# Arizona, the Navajo Nation, which keeps daylight saving time (Mountain time) while the
# state does not: its Arizona towns are all in 860 (Flagstaff's area: Tuba City, Kayenta)
# and 865 (Gallup's: Window Rock, Chinle). A ZIP elsewhere in those states is in the
# state's main zone only (Phoenix 850 keeps Arizona's own time all year). Every other split
# state keeps all its zones: the checker would rather flag a lawful send than pass an
# unlawful one.
ZIP_NARROWED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "FL": (("324", "325"), (E,)),
    "TX": (("798", "799", "885"), (C,)),
    "AZ": (("860", "865"), ("America/Phoenix",)),
}


def address_zones(state: str, zip_code: str | None) -> tuple[str, ...]:
    zones = STATE_ZONES.get(state.upper(), (E, C, M, P, "America/Anchorage"))
    narrowed = ZIP_NARROWED.get(state.upper())
    if narrowed is None or not zip_code or not zip_code[:3].isdigit():
        return zones
    border_zip3s, main = narrowed
    return zones if zip_code[:3] in border_zip3s else main


def phone_zones(number: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return ()
    zones = phone_timezone.time_zones_for_number(parsed)
    return tuple(z for z in zones if z != "Etc/Unknown")


def candidate_zones(
    state: str, phones: Iterable[str], named: Iterable[str] = (), zip_code: str | None = None
) -> set[str]:
    zones = set(address_zones(state, zip_code))
    for number in phones:
        zones.update(phone_zones(number))
    zones.update(named)
    return zones
