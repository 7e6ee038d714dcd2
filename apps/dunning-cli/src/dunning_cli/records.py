"""The parts of the services' HTTP answers the CLI reads, as its own small models.

The CLI talks to the services over HTTP only: these models name just the fields it
prints and ignore the rest, so a service may add fields without breaking the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dunning_core.contracts.events import Decision, DeliveryStatus, RuleFinding
from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DeliveryState(_Answer):
    status: str


class StepState(_Answer):
    step_id: str
    channel: str
    stage: str | None = None
    attempt: int | None = None
    decision: str | None = None
    rule_ids: list[str] = Field(default_factory=list)
    delivery: DeliveryState | None = None


class DecisionRecord(_Answer):
    decided_at: datetime
    decision: Decision
    policy_version: str
    not_before: datetime | None = None
    findings: list[RuleFinding] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)


class DeliveryRecord(_Answer):
    status: DeliveryStatus
    occurred_at: datetime
    provider: str
    provider_message_id: str | None = None
    error_code: str | None = None
    detail: str | None = None


class StepRecord(_Answer):
    """The ledger's ``GET /v1/steps/{step_id}``."""

    account_id: str
    step: StepState
    decisions: list[DecisionRecord] = Field(default_factory=list)
    deliveries: list[DeliveryRecord] = Field(default_factory=list)


class Outcome(_Answer):
    rule_id: str
    action: str
    explanation: str
    not_before: datetime | None = None


class GateDecision(_Answer):
    """The gate's ``POST /v1/evaluate``."""

    decision: str
    not_before: datetime | None = None
    policy_version: str
    outcomes: list[Outcome] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)
