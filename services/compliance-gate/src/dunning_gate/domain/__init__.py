"""The compliance gate's pure rule engine: request in, decision out, no I/O.

    request = build_request(raw, policy)     # or EvaluationRequest(...)
    decision = evaluate(request, policy)      # allow / defer(not_before) / block

Rules live in `dunning_gate.domain.rules`, one module per family; the numbers they
enforce live in the policy (`dunning_gate.policy`).
"""

from dunning_gate.domain.decision import Decision, RuleOutcome
from dunning_gate.domain.evaluate import evaluate
from dunning_gate.domain.parsing import build_request, evaluate_raw, evaluate_safely
from dunning_gate.domain.request import EvaluationRequest, request_json_schema
from dunning_gate.domain.time_zones import candidate_zones

__all__ = [
    "Decision",
    "EvaluationRequest",
    "RuleOutcome",
    "build_request",
    "candidate_zones",
    "evaluate",
    "evaluate_raw",
    "evaluate_safely",
    "request_json_schema",
]
