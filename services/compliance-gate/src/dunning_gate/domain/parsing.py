"""From raw data (a what-if file, a decoded event) to a request — or to a block.

`build_request` turns validation errors into a `Decision` that blocks with rule
`input.invalid`, naming each offending field; `evaluate_raw` goes all the way and never
raises and never allows what it could not check: an unexpected error inside the rules
blocks with `evaluation.error` (a bug to fix; the record keeps its type).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from dunning_gate.domain.decision import Decision, RuleOutcome
from dunning_gate.domain.evaluate import decision_of, evaluate
from dunning_gate.domain.request import EvaluationRequest
from dunning_gate.policy.model import Policy
from dunning_gate.policy.vocabulary import EVALUATION_ERROR, INPUT_INVALID

_MAX_REPORTED_ERRORS = 20


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(request)"


def _text_or_none(raw: Mapping[str, Any], *path: str) -> str | None:
    node: Any = raw
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, str) else None


def _identity(raw: object) -> dict[str, str | None]:
    """Whatever identifies the step in raw input, so a refusal can still be filed."""
    if not isinstance(raw, Mapping):
        return {"step_id": None, "account_id": None, "debt_id": None, "content_hash": None}
    return {
        "step_id": _text_or_none(raw, "step", "step_id"),
        "account_id": _text_or_none(raw, "step", "account_id"),
        "debt_id": _text_or_none(raw, "step", "debt_id"),
        "content_hash": _text_or_none(raw, "step", "content_hash"),
    }


def _error_lines(error: ValidationError) -> list[dict[str, str]]:
    items = error.errors(include_url=False, include_input=False)[:_MAX_REPORTED_ERRORS]
    return [
        {"field": _field(tuple(i["loc"])), "message": i["msg"].removeprefix("Value error, ")}
        for i in items
    ]


def invalid_input_decision(raw: object, errors: list[dict[str, str]], policy: Policy) -> Decision:
    """A block with rule `input.invalid` naming each offending field."""
    fields = ", ".join(e["field"] for e in errors)
    outcome = RuleOutcome(
        rule_id=INPUT_INVALID,
        action="block",
        explanation=f"invalid input: {fields}",
        inputs={"errors": errors},
    )
    identity = _identity(raw)
    return Decision(
        decision="block",
        rule_ids=(INPUT_INVALID,),
        outcomes=(outcome,),
        inputs={"errors": errors},
        policy_version=policy.policy_version,
        step_id=identity["step_id"],
        account_id=identity["account_id"],
        debt_id=identity["debt_id"],
        content_hash=identity["content_hash"],
    )


def build_request(raw: object, policy: Policy) -> EvaluationRequest | Decision:
    """The validated request, or a blocking `input.invalid` decision. Never raises."""
    if not isinstance(raw, Mapping):
        errors = [{"field": "(request)", "message": "the request must be a JSON object"}]
        return invalid_input_decision(raw, errors, policy)
    try:
        return EvaluationRequest.model_validate(raw)
    except ValidationError as exc:
        return invalid_input_decision(raw, _error_lines(exc), policy)
    except Exception as exc:  # a validator failing unexpectedly still must not allow
        errors = [{"field": "(request)", "message": f"{type(exc).__name__}: {exc}"}]
        return invalid_input_decision(raw, errors, policy)


def evaluate_safely(request: EvaluationRequest, policy: Policy) -> Decision:
    """`evaluate`, but a failure inside the rules blocks with `evaluation.error`."""
    try:
        return evaluate(request, policy)
    except Exception as exc:
        outcome = RuleOutcome(
            rule_id=EVALUATION_ERROR,
            action="block",
            explanation=f"the gate failed to evaluate this step: {type(exc).__name__}",
            inputs={"error_type": type(exc).__name__},
        )
        return decision_of("block", request, policy, [outcome], {}, rule_ids=(EVALUATION_ERROR,))


def evaluate_raw(raw: object, policy: Policy) -> Decision:
    """Validate and judge raw input (e.g. a parsed what-if file). Never raises, never
    allows what could not be checked."""
    request = build_request(raw, policy)
    if isinstance(request, Decision):
        return request
    return evaluate_safely(request, policy)
