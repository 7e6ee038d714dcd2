"""Combining rules into one decision; refusing invalid input; the rule registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from dunning_gate.domain import (
    EvaluationRequest,
    build_request,
    evaluate_raw,
    request_json_schema,
)
from dunning_gate.domain.examples import (
    DELETE,
    example_email_request,
    example_request,
    with_changes,
)
from dunning_gate.domain.rules import RULES
from dunning_gate.policy import default_policy
from dunning_gate.policy.vocabulary import RULE_IDS
from dunning_testkit.gate_rules import decide
from hypothesis import given, settings
from hypothesis import strategies as st

POLICY = default_policy()


def test_every_rulebook_rule_id_is_implemented_exactly_once() -> None:
    implemented = [spec.rule_id for spec in RULES]
    assert sorted(implemented) == sorted(RULE_IDS)
    assert len(set(implemented)) == len(implemented) == 32  # the rulebook's 31, operator.paused


def test_the_examples_are_allowed_with_their_inputs_recorded() -> None:
    for raw in (example_request(), example_email_request()):
        decision = evaluate_raw(raw, POLICY)
        assert decision.decision == "allow"
        assert decision.policy_version == POLICY.policy_version
        assert decision.inputs["candidate_zones"] == ["America/New_York"]
        recorded = json.loads(decision.model_dump_json())["inputs"]
        assert recorded["local_times"] == {"America/New_York": "2025-07-01T10:00:00-04:00"}
        assert "counts" in decision.inputs
        assert decision.step_id == "step-1"
        assert decision.content_hash == "sha256:example"


def test_any_block_wins_over_defers_and_lists_every_blocking_rule() -> None:
    decision = decide(
        {
            "now": "2025-07-02T02:00:00Z",  # 22:00 EDT: hours would defer
            "consumer.deceased": True,
            "consumer.phones.0.consent": "none",
        }
    )
    assert decision.decision == "block"
    assert decision.rule_ids == ("deceased", "tcpa.consent")
    assert decision.not_before is None
    assert {o.rule_id for o in decision.outcomes} >= {"deceased", "tcpa.consent", "hours.fdcpa"}


def test_defer_finds_the_earliest_instant_that_suits_every_rule() -> None:
    decision = decide(
        {
            "consumer.inconvenient_times": [{"start": "00:00", "end": "12:00"}],
            "history.attempts": [
                {
                    "at": "2025-06-30T13:00:00Z",
                    "channel": "sms",
                    "debt_ids": ["debt-1"],
                    "destination": "+12125550123",
                    "outcome": "delivered",
                }
            ],
            "now": "2025-07-01T01:30:00Z",  # 21:30 EDT
        }
    )
    # Now: hours -> 08:00 EDT, the daily cap -> 09:00 EDT; judged again at 09:00 the
    # consumer's "not before noon" -> 12:00 EDT, where all three are satisfied.
    assert decision.decision == "defer"
    assert decision.not_before == datetime(2025, 7, 1, 16, tzinfo=UTC)
    assert decision.rule_ids == ("frequency.electronic", "hours.fdcpa", "hours.consumer_stated")
    assert decision.inputs["defer_converged"] is True


def test_decisions_serialise_to_json() -> None:
    decision = decide({"now": "2025-07-02T02:00:00Z"})
    data = json.loads(decision.model_dump_json())
    assert data["decision"] == "defer"
    assert data["not_before"] == "2025-07-02T12:00:00Z"
    assert data["outcomes"][0]["rule_id"] == "hours.fdcpa"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"step.channel": "fax"}, "step.channel"),
        ({"step.stage": "threatening"}, "step.stage"),
        ({"consumer": DELETE}, "consumer"),
        ({"consumer.phones.0.number": "+1212555"}, "consumer.phones.0.number"),
        ({"step.destination": "212-555-0123"}, "step.destination"),
        ({"step.destination": "not-an-email"}, "step.destination"),
        ({"consumer.candidate_zones": ["America/Gotham"]}, "consumer.candidate_zones.0"),
        ({"now": "2025-07-01T14:00:00"}, "now"),  # naive instant
        ({"step.debt_id": "debt-2"}, "(request)"),
        ({"step.attempt": 0}, "step.attempt"),
        ({"debt.collector_type": "bounty_hunter"}, "debt.collector_type"),
        ({"step.surprise": True}, "step.surprise"),
    ],
)
def test_invalid_input_blocks_naming_the_field(changes: dict[str, Any], field: str) -> None:
    raw = with_changes(example_request(), changes)
    if changes.get("step.destination") == "not-an-email":
        raw["step"]["channel"] = "email"
    decision = evaluate_raw(raw, POLICY)
    assert decision.decision == "block"
    assert decision.rule_ids == ("input.invalid",)
    fields = [e["field"] for e in decision.inputs["errors"]]
    assert field in fields, fields
    assert decision.step_id == "step-1"


def test_invalid_phone_is_not_echoed_in_full() -> None:
    decision = evaluate_raw(with_changes(example_request(), {"step.destination": "+1999"}), POLICY)
    assert "+1999" not in decision.model_dump_json()


def test_non_object_input_is_invalid() -> None:
    raws: tuple[Any, ...] = (None, [], "step", 42)
    for raw in raws:
        decision = evaluate_raw(raw, POLICY)
        assert decision.rule_ids == ("input.invalid",)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_evaluate_raw_never_raises_and_never_allows_garbage(raw: Any) -> None:
    decision = evaluate_raw(raw, POLICY)
    assert decision.decision == "block"


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["step", "consumer", "debt", "history", "now"]),
    json_values,
)
def test_replacing_any_part_with_garbage_never_allows_by_accident(part: str, junk: Any) -> None:
    raw = example_request()
    raw[part] = junk
    decision = evaluate_raw(raw, POLICY)
    if decision.decision == "allow":  # only if the junk happened to be a valid value
        assert isinstance(build_request(raw, POLICY), EvaluationRequest)


def test_json_schema_documents_the_what_if_format() -> None:
    schema = request_json_schema()
    assert set(schema["required"]) == {"step", "consumer", "debt", "now"}
    step = schema["$defs"]["Step"]
    assert step["properties"]["channel"]["enum"] == ["sms", "email", "voice", "prerecorded_voice"]
    assert "collection_ending" in step["properties"]["stage"]["enum"]
    json.dumps(schema)
