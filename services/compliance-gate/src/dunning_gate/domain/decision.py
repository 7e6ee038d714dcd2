"""What the gate answers: one outcome per rule that objected, and the combined decision.

A `RuleOutcome` names its rule id (the reason code), its action (defer or block), for a
defer the earliest instant that rule would accept, a short human explanation and the
inputs that decided it. A `Decision` is allow, defer (with `not_before`) or block, with
the outcomes, the inputs the record must keep (local times, counts, consent sources)
and the policy version that decided.

Inputs are plain data: text, numbers, booleans, lists, mappings, and dates/instants as
`date`/`datetime` objects (local times keep their zone's offset); `model_dump(mode="json")`
renders them as ISO 8601 text. Formatting is left to serialisation, off the hot path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Action = Literal["defer", "block"]
Verdict = Literal["allow", "defer", "block"]


class RuleOutcome(BaseModel):
    """One rule's objection to a step."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    action: Action
    explanation: str
    not_before: AwareDatetime | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)


class Decision(BaseModel):
    """The gate's verdict on one step."""

    model_config = ConfigDict(frozen=True)

    decision: Verdict
    not_before: AwareDatetime | None = None
    rule_ids: tuple[str, ...] = ()
    outcomes: tuple[RuleOutcome, ...] = ()
    inputs: dict[str, Any] = Field(default_factory=dict)
    policy_version: str
    step_id: str | None = None
    account_id: str | None = None
    debt_id: str | None = None
    content_hash: str | None = None
    evaluated_at: AwareDatetime | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"
