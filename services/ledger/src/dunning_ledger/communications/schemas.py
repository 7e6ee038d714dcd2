"""The communication log's bodies: operator signals, flags, disputes, steps and events.

Clients such as the ``dunning`` CLI read these bodies with these models; only the ``of``
constructors name the ORM rows, so reading them does not load SQLAlchemy (about 1.8 s).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from dunning_core.contracts.common import Channel, Instant, MessageContent
from dunning_core.contracts.events import (
    Decision,
    DeliveryStatus,
    RuleFinding,
    SignalKind,
)
from pydantic import BaseModel, Field

from dunning_ledger.payments.schemas import Body, Identifier, PlainText, Record

if TYPE_CHECKING:
    from dunning_ledger.communications.service import StepView
    from dunning_ledger.models import CommunicationLog


class SignalIn(Body):
    signal_id: PlainText = Field(
        min_length=1, max_length=128, description="Idempotency key chosen by the client."
    )
    kind: SignalKind = Field(
        description="disputed, dispute_verified, cease_requested, attorney_represented, "
        "bankruptcy_filed, deceased, opted_out, medium_restricted, inconvenient_time, "
        "promised_to_pay"
    )
    text: PlainText | None = Field(default=None, max_length=2000)
    channel: Channel | None = None
    address: str | None = Field(
        default=None,
        max_length=254,
        description="The phone number (stored as E.164) or email concerned.",
    )
    debt_id: Identifier | None = None
    occurred_at: Instant | None = None
    details: dict[PlainText, PlainText] = Field(default_factory=dict)


class SignalOut(Record):
    account_id: str
    signal_id: str
    kind: str
    ce_id: str
    occurred_at: datetime
    recorded_by: str | None = None
    replayed: bool
    applied: bool | None = Field(
        default=None,
        description="True once every running channel worker has applied the signal: its "
        "suppression is set and any message already on its way to the provider has been "
        "answered, so nothing reaches the consumer after this answer. False if that took "
        "longer than the ledger waits (it is applied all the same); null if not asked.",
    )


class FlagOut(Record):
    flag: str
    scope: str
    active: bool
    changed_at: datetime
    kind: str
    source: str
    signal_id: str
    detail: str | None


class DisputeOut(Record):
    dispute_id: str
    debt_id: str | None
    signal_id: str
    source: str
    detail: str | None
    opened_at: datetime
    verified_at: datetime | None
    recorded_by: str | None = None


class DeliveryOut(BaseModel):
    status: str
    final: bool
    provider: str | None
    provider_message_id: str | None
    error_code: str | None
    detail: str | None
    status_at: datetime | None
    accepted_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None


class StepOut(BaseModel):
    step_id: str
    debt_id: str | None
    channel: str
    stage: str | None
    attempt: int | None
    destination: str | None
    decision: str | None
    rule_ids: list[str]
    not_before: datetime | None
    policy_version: str | None
    first_decided_at: datetime | None
    decided_at: datetime | None
    decisions: int
    delivery: DeliveryOut | None

    @classmethod
    def of(cls, s: CommunicationLog) -> StepOut:
        delivery = None
        if s.delivery_status is not None:
            delivery = DeliveryOut(
                status=s.delivery_status,
                final=s.delivery_status not in ("accepted", "sent"),
                provider=s.provider,
                provider_message_id=s.provider_message_id,
                error_code=s.error_code,
                detail=s.error_detail,
                status_at=s.status_at,
                accepted_at=s.accepted_at,
                sent_at=s.sent_at,
                delivered_at=s.delivered_at,
                failed_at=s.failed_at,
            )
        return cls(
            step_id=s.step_id,
            debt_id=s.debt_id,
            channel=s.channel,
            stage=s.stage,
            attempt=s.attempt,
            destination=s.destination,
            decision=s.decision,
            rule_ids=list(s.rule_ids or []),
            not_before=s.not_before,
            policy_version=s.policy_version,
            first_decided_at=s.first_decided_at,
            decided_at=s.decided_at,
            decisions=s.decisions,
            delivery=delivery,
        )


class EventOut(Record):
    ce_id: str
    ce_type: str
    ce_source: str
    kind: str
    outcome: str
    step_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str | None = None
    traceparent: str | None
    payload: dict[str, Any]


class CommunicationsOut(BaseModel):
    account_id: str
    steps: list[StepOut]
    events: list[EventOut] | None = Field(
        default=None, description="Every recorded event, with ?detail=events."
    )


class DecisionOut(Record):
    """One recorded gate decision, as the gate sent it."""

    decided_at: datetime
    decision: Decision
    policy_version: str
    not_before: datetime | None = Field(description="When a deferred step may be tried again.")
    findings: list[RuleFinding] = Field(
        description="Each rule that objected: action, rule id, explanation and its inputs."
    )
    inputs: dict[str, Any] = Field(description="What the gate knew when it decided.")
    content: MessageContent | None = Field(
        default=None,
        description="The message the gate vetted (subject, body), whole: what was sent when "
        "allowed. None for decisions recorded before gates sent it.",
    )


class DeliveryEventOut(Record):
    """One recorded delivery status change."""

    status: DeliveryStatus
    occurred_at: datetime
    provider: str
    provider_message_id: str | None
    error_code: str | None
    detail: str | None


class StepRecordOut(BaseModel):
    account_id: str
    step: StepOut = Field(description="The step's row of the log: latest decision, final status.")
    decisions: list[DecisionOut] = Field(description="Every decision recorded, oldest first.")
    deliveries: list[DeliveryEventOut] = Field(
        description="Every delivery event recorded, in the order they occurred."
    )

    @classmethod
    def of(cls, view: StepView) -> StepRecordOut:
        return cls(
            account_id=view.step.account_id,
            step=StepOut.of(view.step),
            decisions=[DecisionOut.model_validate(d) for d in view.decisions],
            deliveries=[DeliveryEventOut.model_validate(d) for d in view.deliveries],
        )
