"""USPS codes of the places an account's address may be in: the 50 states, DC, territories.

Military "states" (AA, AE, AP) are left out on purpose: they carry no time zone or state
law the gate can apply, so an account with one needs a human look before import.
"""

from __future__ import annotations

from typing import Final

STATES: Final = frozenset(
    {
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA",
        "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD",
        "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
        "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC",
        "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    }
)  # fmt: skip
DISTRICT: Final = frozenset({"DC"})
TERRITORIES: Final = frozenset({"AS", "GU", "MP", "PR", "VI", "UM"})

US_REGIONS: Final = STATES | DISTRICT | TERRITORIES


def is_us_region(code: str) -> bool:
    return code in US_REGIONS
