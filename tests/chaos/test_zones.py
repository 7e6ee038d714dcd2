"""The checker's own candidate zones: a ZIP narrows a split state only where that is certain."""

from __future__ import annotations

from tests.chaos.zones import C, E, M, candidate_zones


def test_miami_and_dallas_are_in_one_zone_each() -> None:
    assert candidate_zones("FL", [], zip_code="33101") == {E}
    assert candidate_zones("TX", [], zip_code="75201") == {C}


def test_phoenix_keeps_arizona_time_and_the_navajo_nation_both() -> None:
    # chaos1796588484 flagged 38 sends to Phoenix (85001) at 21:13 Mountain daylight time,
    # 20:13 in Phoenix: lawful; the gate knew Phoenix keeps no DST, the checker did not.
    assert candidate_zones("AZ", [], zip_code="85001") == {"America/Phoenix"}
    assert candidate_zones("AZ", [], zip_code="86515") == {"America/Phoenix", M}  # Window Rock
    assert candidate_zones("AZ", [], zip_code="86045") == {"America/Phoenix", M}  # Tuba City
    assert candidate_zones("AZ", []) == {"America/Phoenix", M}


def test_the_border_areas_and_unknown_zips_keep_every_zone_of_the_state() -> None:
    assert candidate_zones("FL", [], zip_code="32501") == {E, C}  # Pensacola
    assert candidate_zones("TX", [], zip_code="79901") == {C, M}  # El Paso
    assert candidate_zones("TX", []) == {C, M}
    assert candidate_zones("KY", [], zip_code="40202") == {E, C}  # not narrowed by the checker


def test_a_phone_from_another_zone_still_counts() -> None:
    assert candidate_zones("FL", ["+13125550100"], zip_code="33101") == {E, C}  # Chicago 312
