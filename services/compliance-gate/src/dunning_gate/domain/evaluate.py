"""Combining the rules into one decision.

Any block blocks (every blocking rule id is listed). Otherwise any defer defers, to the
earliest instant that satisfies all deferring rules at once: starting from the latest
`not_before`, every rule is judged again at that instant, and the latest `not_before`
of whatever still defers becomes the next candidate, until nothing defers (bounded; if
the bound is hit the last candidate is returned, and the step is judged again then, so
nothing is ever allowed unchecked). Rules that would block only at the later instant
(say the debt becomes time-barred by then) do not turn a defer into a block: the step
is judged afresh when it comes back, with whatever the state is then; they are listed
in the inputs as `blocks_expected_at_not_before`.

Otherwise the step is allowed, until `send_by`: the earliest close of the windows the
allow relies on (each time-of-day rule in scope, over every candidate zone; each
calendar-day cap it counted). Every decision carries the inputs the record needs
(candidate zones, local times, counts per window, consent source) and the policy version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from dunning_gate.domain.context import Facts, RuleContext
from dunning_gate.domain.decision import Decision, RuleOutcome, Verdict
from dunning_gate.domain.request import EvaluationRequest
from dunning_gate.domain.rules import Close, Rule, closes_for, rules_for
from dunning_gate.policy.model import Policy

MAX_DEFER_ROUNDS: Final = 24


def _judge(ctx: RuleContext, rules: tuple[Rule, ...]) -> list[RuleOutcome]:
    outcomes = []
    for rule in rules:
        outcome = rule(ctx)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _unique_ids(outcomes: list[RuleOutcome]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o.rule_id for o in outcomes))


def _base_inputs(facts: Facts, at: datetime) -> dict[str, Any]:
    return {
        "channel": facts.channel,
        "stage": facts.step.stage,
        "collector_type": facts.debt.collector_type,
        "candidate_zones": list(facts.zone_names),
        "local_times": {
            name: at.astimezone(zone)
            for name, zone in zip(facts.zone_names, facts.zones, strict=True)
        },
    }


_STEP_IDENTIFIERS = ("step_id", "account_id", "debt_id", "content_hash")
"""What a decision names of the step it decided (read as attributes: a ``model_dump`` costs
more than the rest of building the decision)."""


def decision_of(
    verdict: Verdict,
    request: EvaluationRequest,
    policy: Policy,
    outcomes: list[RuleOutcome],
    inputs: dict[str, Any],
    not_before: datetime | None = None,
    rule_ids: tuple[str, ...] = (),
    send_by: datetime | None = None,
) -> Decision:
    """The decision on ``request``'s step under ``policy``, with its identifiers and time."""
    return Decision(
        **{name: getattr(request.step, name) for name in _STEP_IDENTIFIERS},
        decision=verdict,
        not_before=not_before,
        send_by=send_by,
        rule_ids=rule_ids,
        outcomes=tuple(outcomes),
        inputs=inputs,
        policy_version=policy.policy_version,
        evaluated_at=request.now,
    )


def _latest(outcomes: list[RuleOutcome]) -> datetime:
    return max(o.not_before for o in outcomes if o.not_before is not None)


def send_by(ctx: RuleContext, closes: tuple[Close, ...]) -> datetime | None:
    """When an allow at `ctx.at` lapses: the earliest close of every window it relies on
    (None: none closes within the rules' horizon)."""
    found = [*ctx.closes, *(c for c in (close(ctx) for close in closes) if c is not None)]
    return min(found) if found else None


def evaluate(request: EvaluationRequest, policy: Policy) -> Decision:
    """Judge one step at `request.now` under `policy` (pure; no I/O)."""
    facts = Facts(request, policy)
    scope = (
        policy.active_rules(request.debt.collector_type),
        request.step.channel,
        request.consumer.state,
    )
    rules = rules_for(*scope)
    ctx = RuleContext(facts, request.now)
    outcomes = _judge(ctx, rules)
    inputs = _base_inputs(facts, request.now) | ctx.notes
    blocks = [o for o in outcomes if o.action == "block"]
    if blocks:
        return decision_of("block", request, policy, outcomes, inputs, None, _unique_ids(blocks))
    if not outcomes:
        deadline = send_by(ctx, closes_for(*scope))
        return decision_of("allow", request, policy, outcomes, inputs, send_by=deadline)

    deferring = list(outcomes)
    candidate = _latest(outcomes)
    converged = False
    expected_blocks: tuple[str, ...] = ()
    for _ in range(MAX_DEFER_ROUNDS):
        later = _judge(RuleContext(facts, candidate), rules)
        expected_blocks = _unique_ids([o for o in later if o.action == "block"])
        still = [o for o in later if o.action == "defer"]
        if not still:
            converged = True
            break
        deferring.extend(still)
        next_candidate = _latest(still)
        if next_candidate <= candidate:
            break
        candidate = next_candidate
    inputs["defer_converged"] = converged
    if expected_blocks:
        inputs["blocks_expected_at_not_before"] = list(expected_blocks)
    deferred_by = _unique_ids(deferring)
    return decision_of("defer", request, policy, deferring, inputs, candidate, deferred_by)
