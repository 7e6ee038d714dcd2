"""A consumer's candidate time zones, from the address and from the phone numbers.

Reg F commentary (via the rulebook): when location data conflict, a time is convenient
only if it is convenient in every candidate location. So the candidates are the union
of the address's zones (state, refined by ZIP where a state spans zones) and each phone
number's zones (area code, via `phonenumbers`). With no location at all, the caller's
`no_location_zones` (the policy's continental US + Alaska + Hawaii list) apply.

Granularity: ZIP-3 prefixes (the first three digits), plus a few 5-digit exceptions.
A ZIP-3 whose area straddles a zone boundary maps to every zone it touches, which
narrows the window for some consumers rather than ever widening it. A state given
without ZIP maps to all of its zones.

`phonenumbers` parsing costs ~26 µs a number: compute candidates once per contact-point
change (the gate caches them per account revision), not per decision.

Pure (no I/O). Shared: the compliance gate judges contact hours with these zones, and the
ledger places an agent's call-back inside the same hours (with ``time_windows``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezone

NY: Final = "America/New_York"
CHI: Final = "America/Chicago"
DEN: Final = "America/Denver"
PHX: Final = "America/Phoenix"
LA: Final = "America/Los_Angeles"
BOI: Final = "America/Boise"
IND: Final = "America/Indiana/Indianapolis"
DET: Final = "America/Detroit"
MNM: Final = "America/Menominee"  # the Central-time Upper Peninsula counties
ANC: Final = "America/Anchorage"
ADAK: Final = "America/Adak"
HNL: Final = "Pacific/Honolulu"

DEFAULT_NO_LOCATION_ZONES: Final[tuple[str, ...]] = (NY, CHI, DEN, PHX, LA, ANC, HNL)

# Every zone a state (without ZIP) can be in. Single-zone states map to one zone.
STATE_ZONES: Final[dict[str, tuple[str, ...]]] = {
    "AL": (CHI, NY),  # Phenix City area keeps Eastern time unofficially
    "AK": (ANC, ADAK),
    "AZ": (PHX, DEN),  # Navajo Nation observes DST
    "AR": (CHI,),
    "CA": (LA,),
    "CO": (DEN,),
    "CT": (NY,),
    "DE": (NY,),
    "DC": (NY,),
    "FL": (NY, CHI),
    "GA": (NY,),
    "HI": (HNL,),
    "ID": (BOI, LA),
    "IL": (CHI,),
    "IN": (IND, CHI),
    "IA": (CHI,),
    "KS": (CHI, DEN),
    "KY": (NY, CHI),
    "LA": (CHI,),
    "ME": (NY,),
    "MD": (NY,),
    "MA": (NY,),
    "MI": (DET, MNM),
    "MN": (CHI,),
    "MS": (CHI,),
    "MO": (CHI,),
    "MT": (DEN,),
    "NE": (CHI, DEN),
    "NV": (LA, DEN),  # West Wendover keeps Mountain time
    "NH": (NY,),
    "NJ": (NY,),
    "NM": (DEN,),
    "NY": (NY,),
    "NC": (NY,),
    "ND": (CHI, DEN),
    "OH": (NY,),
    "OK": (CHI, DEN),  # Kenton (Cimarron County) keeps Mountain time unofficially
    "OR": (LA, BOI),  # most of Malheur County is Mountain
    "PA": (NY,),
    "RI": (NY,),
    "SC": (NY,),
    "SD": (CHI, DEN),
    "TN": (NY, CHI),
    "TX": (CHI, DEN),  # El Paso and Hudspeth counties are Mountain
    "UT": (DEN,),
    "VT": (NY,),
    "VA": (NY,),
    "WA": (LA,),
    "WV": (NY,),
    "WI": (CHI,),
    "WY": (DEN,),
    "PR": ("America/Puerto_Rico",),
    "VI": ("America/St_Thomas",),
    "GU": ("Pacific/Guam",),
    "MP": ("Pacific/Saipan",),
    "AS": ("Pacific/Pago_Pago",),
}

# Split states refined by ZIP-3. A split state's ZIP-3 not listed here takes the
# state's main zone (the first in STATE_ZONES).
ZIP3_ZONES: Final[dict[str, tuple[str, ...]]] = {
    # Alabama: Russell County (Phenix City) unofficially Eastern
    "368": (CHI, NY),
    # Alaska: all Anchorage time except the Aleutians west of 169.5°W (5-digit table)
    # Arizona: Navajo Nation (DST) around Flagstaff/Tuba City and Chinle/Window Rock
    "860": (PHX, DEN),
    "865": (PHX, DEN),
    # Florida: the panhandle west of the Apalachicola River is Central
    "324": (CHI, NY),  # Panama City; Gulf County is split
    "325": (CHI,),  # Pensacola
    # Idaho: the panhandle and Lewiston are Pacific
    "835": (LA,),
    "838": (LA,),
    # Indiana: NW (Gary) and SW (Evansville) corners are Central
    "463": (CHI,),
    "464": (CHI,),
    "465": (IND, CHI),  # Starke County (Knox) is Central
    "475": (IND, CHI),  # Perry County (Tell City) is Central
    "476": (CHI,),
    "477": (CHI,),
    # Kansas: four western counties are Mountain
    "677": (CHI, DEN),
    "678": (CHI, DEN),
    # Kentucky: the west is Central
    "420": (CHI,),
    "421": (CHI,),
    "422": (CHI,),
    "423": (CHI,),
    "424": (CHI,),
    "425": (NY, CHI),
    "426": (NY, CHI),
    "427": (NY, CHI),
    # Michigan: Gogebic, Iron, Dickinson, Menominee counties are Central
    "498": (DET, MNM),
    "499": (DET, MNM),
    # Nebraska: the panhandle and the south-west are Mountain
    "690": (CHI, DEN),
    "691": (CHI, DEN),
    "692": (CHI, DEN),
    "693": (DEN,),
    # Nevada: West Wendover (Elko County) is Mountain
    "898": (LA, DEN),
    # North Dakota: the south-west is Mountain
    "585": (CHI, DEN),
    "586": (DEN,),
    "588": (CHI, DEN),
    # Oklahoma: Cimarron County
    "739": (CHI, DEN),
    # Oregon: Malheur County
    "979": (BOI, LA),
    # South Dakota: the west river is Mountain
    "575": (CHI, DEN),
    "576": (CHI, DEN),
    "577": (DEN,),
    # Tennessee: East is Eastern, Middle and West are Central
    "370": (CHI,),
    "371": (CHI,),
    "372": (CHI,),
    "373": (NY,),
    "374": (NY,),
    "375": (CHI,),
    "376": (NY,),
    "377": (NY,),
    "378": (NY,),
    "379": (NY,),
    "380": (CHI,),
    "381": (CHI,),
    "382": (CHI,),
    "383": (CHI,),
    "384": (CHI,),
    "385": (CHI, NY),  # Cookeville area borders Eastern counties
    # Texas: El Paso and Hudspeth counties are Mountain
    "798": (DEN,),
    "799": (DEN,),
    "885": (DEN,),
}

ZIP5_ZONES: Final[dict[str, tuple[str, ...]]] = {
    "99546": (ADAK,),  # Adak
    "99547": (ADAK,),  # Atka
}

# Prefixes that belong to each split state (to tell "not listed" from "another state").
_SPLIT_STATE_ZIP3: Final[dict[str, tuple[str, str]]] = {
    "AL": ("350", "369"),
    "AK": ("995", "999"),
    "AZ": ("850", "865"),
    "FL": ("320", "349"),
    "ID": ("832", "838"),
    "IN": ("460", "479"),
    "KS": ("660", "679"),
    "KY": ("400", "427"),
    "MI": ("480", "499"),
    "NE": ("680", "693"),
    "NV": ("889", "898"),
    "ND": ("580", "588"),
    "OK": ("730", "749"),
    "OR": ("970", "979"),
    "SD": ("570", "577"),
    "TN": ("370", "385"),
    "TX": ("750", "799"),
}

# More zones than this for one number means a non-geographic number (toll-free etc.).
_MAX_GEOGRAPHIC_ZONES: Final = 4


def address_zones(state: str | None, zip_code: str | None) -> tuple[str, ...]:
    """Zones of a postal address; empty when the address says nothing."""
    if state is None:
        return ()
    zones = STATE_ZONES.get(state, ())
    if zip_code is None or len(zones) <= 1:
        return zones
    zip3 = zip_code[:3]
    low, high = _SPLIT_STATE_ZIP3.get(state, ("", ""))
    if not (low <= zip3 <= high or (state == "TX" and zip3 == "885")):
        return zones  # a ZIP that does not belong to the state: keep every zone
    zip5 = zip_code[:5]
    if zip5 in ZIP5_ZONES:
        return ZIP5_ZONES[zip5]
    return ZIP3_ZONES.get(zip3, zones[:1])


@lru_cache(maxsize=65536)
def phone_zones(number: str) -> tuple[str, ...]:
    """Zones of a phone number's area code; empty when unknown or non-geographic."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(
        zone
        for zone in phone_timezone.time_zones_for_number(parsed)
        if zone != phone_timezone.UNKNOWN_TIMEZONE
    )
    if len(zones) > _MAX_GEOGRAPHIC_ZONES:
        return ()
    return zones


def zones_of(
    state: str | None,
    zip_code: str | None,
    numbers: Iterable[str],
    no_location_zones: tuple[str, ...] = DEFAULT_NO_LOCATION_ZONES,
) -> tuple[str, ...]:
    """Every zone a consumer may be in: the address's, then every phone number's (in that
    order, each once); ``no_location_zones`` when none of them says anything."""
    names = list(address_zones(state, zip_code))
    for number in numbers:
        names.extend(phone_zones(number))
    return tuple(dict.fromkeys(names)) or no_location_zones


@lru_cache(maxsize=4096)
def zone_infos(names: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    """ZoneInfo objects for validated IANA names (cached per tuple)."""
    return tuple(ZoneInfo(name) for name in names)
