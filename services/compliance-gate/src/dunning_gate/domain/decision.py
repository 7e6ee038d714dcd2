"""What the gate answers: one outcome per rule that objected, and the combined decision.

A `RuleOutcome` names its rule id (the reason code), its action (defer or block), for a
defer the earliest instant that rule would accept, a short human explanation and the
inputs that decided it. A `Decision` is allow (until `send_by`), defer (with
`not_before`) or block, with the outcomes, the inputs the record must keep (local times,
counts, consent sources) and the policy version that decided.

Inputs are plain data: text, numbers, booleans, lists, mappings, and dates/instants as
`date`/`datetime` objects (local times keep their zone's offset); `model_dump(mode="json")`
renders them as ISO 8601 text. Formatting is left to serialisation, off the hot path.

Both are frozen stdlib dataclasses built only by the engine from validated parts (a
pydantic model would re-validate every decision, ~3 µs of a ~45 µs budget); pydantic
`TypeAdapter`s give them the familiar `model_dump` / `model_dump_json` / `model_validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Literal

from pydantic import TypeAdapter

Action = Literal["defer", "block"]
Verdict = Literal["allow", "defer", "block"]
DumpMode = Literal["python", "json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOutcome:
    """One rule's objection to a step."""

    rule_id: str
    action: Action
    explanation: str
    not_before: datetime | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    def model_dump(self, mode: DumpMode = "python") -> dict[str, Any]:
        dumped: dict[str, Any] = _outcome_adapter().dump_python(self, mode=mode)
        return dumped


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The gate's verdict on one step."""

    decision: Verdict
    policy_version: str
    not_before: datetime | None = None
    send_by: datetime | None = None  # an allow lapses then (see `evaluate.send_by`)
    rule_ids: tuple[str, ...] = ()
    outcomes: tuple[RuleOutcome, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    step_id: str | None = None
    account_id: str | None = None
    debt_id: str | None = None
    content_hash: str | None = None
    evaluated_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def model_dump(self, mode: DumpMode = "python") -> dict[str, Any]:
        dumped: dict[str, Any] = _decision_adapter().dump_python(self, mode=mode)
        return dumped

    def model_dump_json(self, indent: int | None = None) -> str:
        return _decision_adapter().dump_json(self, indent=indent).decode()

    @classmethod
    def model_validate(cls, data: Any) -> Decision:
        """Read a decision back (e.g. from a stored record), validating it."""
        return _decision_adapter().validate_python(data)

    @classmethod
    def model_validate_json(cls, data: str | bytes) -> Decision:
        return _decision_adapter().validate_json(data)


@cache
def _decision_adapter() -> TypeAdapter[Decision]:
    return TypeAdapter(Decision)


@cache
def _outcome_adapter() -> TypeAdapter[RuleOutcome]:
    return TypeAdapter(RuleOutcome)
