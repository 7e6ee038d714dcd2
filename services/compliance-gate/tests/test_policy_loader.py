"""Policy as data: the default policy loads; bad files are refused naming the path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from dunning_gate.domain.examples import with_changes
from dunning_gate.policy import Policy, PolicyError, default_policy, load_policy, parse_policy
from dunning_gate.policy.vocabulary import RULE_IDS


def _default_data() -> dict[str, Any]:
    text = resources.files("dunning_gate.policy").joinpath("default_policy.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _refusal(changes: dict[str | tuple[str, ...], Any]) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(with_changes(_default_data(), changes)), "test.yaml")
    return str(caught.value)


def test_default_policy_loads_with_version_and_all_hours_windows() -> None:
    policy = default_policy()
    assert policy.policy_version == "2026.12-default"
    assert set(policy.hours) == {"hours.fdcpa", "state.fl.hours", "state.ok.prerecorded"}
    assert policy.hours["state.ok.prerecorded"].start.hour == 9
    assert policy.consent.reassigned_check_max_age_days == 60
    assert policy.consent.address_basis_notice_days == 35
    # NYC's amended rules bind from 1 September 2026; electronic consent stays behind a flag
    assert policy.states.nyc.enabled is True
    assert str(policy.states.nyc.effective_from) == "2026-09-01"
    assert policy.states.nyc.econsent_required is False
    assert policy.statute_of_limitations.revives("NY") is False
    assert policy.statute_of_limitations.revives("FL") is True


def test_load_policy_reads_a_file(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(yaml.safe_dump(with_changes(_default_data(), {"policy_version": "t-1"})))
    assert load_policy(file).policy_version == "t-1"


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "nope.yaml")


def test_unknown_rule_id_is_refused_naming_it() -> None:
    message = _refusal({"rules": {"hours.fdcpaa": {"enabled": False}}})
    assert "rules.hours.fdcpaa" in message
    assert "unknown rule id 'hours.fdcpaa'" in message


def test_unknown_hours_rule_is_refused() -> None:
    data = _default_data()
    data["hours"]["hours.fdcpa_typo"] = data["hours"]["hours.fdcpa"]
    with pytest.raises(PolicyError, match=r"hours\.hours\.fdcpa_typo"):
        parse_policy(yaml.safe_dump(data))


def test_negative_cap_is_refused_naming_the_path() -> None:
    message = _refusal({"frequency.calls_7in7.max": -1})
    assert "frequency.calls_7in7.max" in message
    assert "greater than or equal to 0" in message


def test_negative_electronic_cap_is_refused_naming_the_list_item() -> None:
    data = _default_data()
    data["frequency"]["electronic"]["caps"][2]["max"] = -3
    with pytest.raises(PolicyError, match=r"frequency\.electronic\.caps\.2\.max"):
        parse_policy(yaml.safe_dump(data))


@pytest.mark.parametrize("bad", ["25:00", "8:00", "08:60", "noon"])
def test_bad_hour_is_refused(bad: str) -> None:
    message = _refusal({("hours", "hours.fdcpa", "start"): bad})
    assert "hours.hours.fdcpa.start" in message
    assert "not a time of day" in message


def test_unquoted_yaml_time_gets_a_helpful_message() -> None:
    text = yaml.safe_dump(_default_data()).replace("end: '21:00'", "end: 21:00", 1)
    with pytest.raises(PolicyError, match="quoted 'HH:MM'"):
        parse_policy(text)


def test_window_ending_before_it_starts_is_refused() -> None:
    message = _refusal({("hours", "state.fl.hours", "start"): "22:00"})
    assert "hours.state.fl.hours" in message
    assert "must be before end" in message


def test_unknown_key_is_refused() -> None:
    message = _refusal({"frequency.calls_7in7.maximum": 7})
    assert "frequency.calls_7in7.maximum: unknown key" in message


def test_duplicate_key_is_refused() -> None:
    text = "policy_version: a\npolicy_version: b\n"
    with pytest.raises(PolicyError, match="duplicate key 'policy_version'"):
        parse_policy(text)


def test_unknown_time_zone_is_refused() -> None:
    message = _refusal({"time_zones.no_location_zones": ["America/New_York", "Mars/Olympus"]})
    assert "time_zones.no_location_zones.1" in message


def test_missing_hours_window_is_refused() -> None:
    data = _default_data()
    del data["hours"]["state.ok.prerecorded"]
    with pytest.raises(PolicyError, match=r"no window for state\.ok\.prerecorded"):
        parse_policy(yaml.safe_dump(data))


def test_not_yaml_and_not_a_mapping_are_refused() -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("a: [")
    with pytest.raises(PolicyError, match="mapping at the top level"):
        parse_policy("- 1\n- 2\n")


def test_phrases_are_normalised_on_load() -> None:
    data = with_changes(_default_data(), {"content.legal_action_threat": ["¡Demanda Ya!"]})
    assert Policy.model_validate(data).content.legal_action_threat == (" demanda ya ",)


def test_rules_apply_per_collector_type() -> None:
    policy = default_policy()
    assert "content.mini_miranda" not in policy.active_rules("creditor")
    assert "content.mini_miranda" in policy.active_rules("third_party_collector")
    assert policy.active_rules("debt_buyer") == frozenset(RULE_IDS)
    disabled = Policy.model_validate(
        with_changes(_default_data(), {("rules", "hours.fdcpa"): {"enabled": False}})
    )
    assert "hours.fdcpa" not in disabled.active_rules("third_party_collector")
