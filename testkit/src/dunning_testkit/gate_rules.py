"""Deciding one step with the gate's pure engine, for the rule tests.

``decide`` applies dotted-path changes to the example request (or a base given) and
evaluates it; ``policy_with`` is the default policy with changes; ``utc`` reads a naive
ISO instant as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml
from dunning_gate.domain import EvaluationRequest, build_request, evaluate
from dunning_gate.domain.decision import Decision
from dunning_gate.domain.examples import example_request, with_changes
from dunning_gate.policy import Policy, default_policy

POLICY = default_policy()


def decide(
    changes: dict[Any, Any], base: dict[str, Any] | None = None, policy: Policy = POLICY
) -> Decision:
    request = build_request(with_changes(base or example_request(), changes), policy)
    assert isinstance(request, EvaluationRequest), request
    return evaluate(request, policy)


def policy_with(changes: dict[Any, Any]) -> Policy:
    text = resources.files("dunning_gate.policy").joinpath("default_policy.yaml").read_text()
    return Policy.model_validate(with_changes(yaml.safe_load(text), changes))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
