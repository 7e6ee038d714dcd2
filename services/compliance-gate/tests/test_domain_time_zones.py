"""Candidate time zones from the address (state, ZIP-3) and phone numbers."""

from __future__ import annotations

import pytest
from dunning_core.time_zones import (
    DEFAULT_NO_LOCATION_ZONES,
    STATE_ZONES,
    ZIP3_ZONES,
    address_zones,
    phone_zones,
    zone_infos,
)
from dunning_gate.domain.request import Consumer
from dunning_gate.domain.time_zones import candidate_zones


@pytest.mark.parametrize(
    ("state", "zip_code", "expected"),
    [
        ("NY", "10001", ("America/New_York",)),
        ("CA", None, ("America/Los_Angeles",)),
        ("FL", "32501", ("America/Chicago",)),  # Pensacola
        ("FL", "33101", ("America/New_York",)),  # Miami
        ("FL", None, ("America/New_York", "America/Chicago")),
        ("TX", "79901", ("America/Denver",)),  # El Paso
        ("TX", "75201", ("America/Chicago",)),  # Dallas
        ("TN", "37902", ("America/New_York",)),  # Knoxville
        ("TN", "37201", ("America/Chicago",)),  # Nashville
        ("KY", "42001", ("America/Chicago",)),  # Paducah
        ("IN", "46201", ("America/Indiana/Indianapolis",)),
        ("IN", "47708", ("America/Chicago",)),  # Evansville
        ("MI", "49801", ("America/Detroit", "America/Menominee")),  # Iron Mountain
        ("ND", "58601", ("America/Denver",)),  # Dickinson
        ("SD", "57701", ("America/Denver",)),  # Rapid City
        ("NE", "69361", ("America/Denver",)),  # Scottsbluff
        ("KS", "67735", ("America/Chicago", "America/Denver")),  # Goodland
        ("ID", "83814", ("America/Los_Angeles",)),  # Coeur d'Alene
        ("ID", "83702", ("America/Boise",)),
        ("OR", "97914", ("America/Boise", "America/Los_Angeles")),  # Ontario
        ("AZ", "85004", ("America/Phoenix",)),
        ("AZ", "86515", ("America/Phoenix", "America/Denver")),  # Window Rock, Navajo
        ("AK", "99546", ("America/Adak",)),
        ("AK", "99501", ("America/Anchorage",)),
        ("TX", "10001", ("America/Chicago", "America/Denver")),  # ZIP of another state
        (None, "10001", ()),
    ],
)
def test_address_zones(state: str | None, zip_code: str | None, expected: tuple[str, ...]) -> None:
    assert address_zones(state, zip_code) == expected


def test_every_table_zone_is_a_real_iana_zone() -> None:
    names = {z for zones in STATE_ZONES.values() for z in zones}
    names |= {z for zones in ZIP3_ZONES.values() for z in zones}
    assert len(zone_infos(tuple(sorted(names)))) == len(names)


def test_phone_zones_by_area_code_and_non_geographic_numbers() -> None:
    assert phone_zones("+12125550123") == ("America/New_York",)
    assert phone_zones("+14155550123") == ("America/Los_Angeles",)
    assert phone_zones("+18005550199") == ()  # toll-free: says nothing about location


def test_eastern_phone_with_pacific_address_gives_both() -> None:
    consumer = Consumer(state="CA", zip="94105", phones=[{"number": "+12125550123"}])
    assert candidate_zones(consumer) == ("America/Los_Angeles", "America/New_York")


def test_destination_number_counts_even_if_not_on_file() -> None:
    consumer = Consumer(state="CA")
    assert "America/New_York" in candidate_zones(consumer, destination="+12125550123")


def test_no_location_at_all_uses_the_overlap_list() -> None:
    assert candidate_zones(Consumer()) == DEFAULT_NO_LOCATION_ZONES
    assert candidate_zones(Consumer(), ("America/Chicago",)) == ("America/Chicago",)


def test_precomputed_zones_are_used_as_given() -> None:
    consumer = Consumer(state="CA", candidate_zones=("America/Chicago",))
    assert candidate_zones(consumer) == ("America/Chicago",)
