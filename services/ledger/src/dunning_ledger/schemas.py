"""The HTTP API's request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from dunning_core.contracts.common import Channel, Instant
from dunning_core.contracts.events import (
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    RuleFinding,
    SignalKind,
    StepDecided,
)
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dunning_ledger.domain.money import format_minor

if TYPE_CHECKING:
    # Only the ``of`` constructors name these: clients such as the ``dunning`` CLI read
    # the bodies with these models without loading SQLAlchemy (about 1.8 s).
    from dunning_ledger.models import (
        Account,
        CommunicationEvent,
        CommunicationLog,
        ConsumerFlag,
        Dispute,
        Payment,
        PaymentPlan,
    )
    from dunning_ledger.service import AccountView, ImportCounts, StepView


def _decimal_text(value: Any) -> Any:
    # JSON numbers are accepted too, read through their text (never as binary floats).
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


DecimalText = Annotated[
    str,
    BeforeValidator(_decimal_text),
    Field(pattern=r"^\s*\d+(\.\d+)?\s*$", examples=["1234.50"]),
]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Amount(BaseModel):
    amount_minor: int
    currency: str
    display: str = Field(description="Decimal text in major units, e.g. 1234.50")

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Amount:
        return cls(
            amount_minor=amount_minor,
            currency=currency,
            display=format_minor(amount_minor, currency),
        )


# --- import ---------------------------------------------------------------------------


class ImportResult(BaseModel):
    received: int = Field(description="Data rows in the file.")
    opened: int = Field(description="New accounts (revision 1, AccountOpened sent).")
    updated: int = Field(description="Changed accounts (revision + 1, AccountUpdated sent).")
    unchanged: int = Field(description="Accounts whose content was already recorded.")

    @classmethod
    def of(cls, counts: ImportCounts) -> ImportResult:
        return cls(
            received=counts.received,
            opened=counts.opened,
            updated=counts.updated,
            unchanged=counts.unchanged,
        )


class ImportRowError(BaseModel):
    row: int = Field(description="Data row, counted from 1; 0 is the header.")
    line: int | None = Field(description="CSV line in the file; the header is line 1.")
    field: str | None
    message: str


class ImportErrorBody(BaseModel):
    error: Literal["import_rejected"]
    message: str
    received: int
    error_count: int
    row_numbering: str
    errors: list[ImportRowError]


class ErrorBody(BaseModel):
    error: str
    message: str
    errors: list[dict[str, Any]] | None = None


# --- payments, plans, signals ---------------------------------------------------------


class PaymentIn(Body):
    payment_id: Identifier = Field(description="Idempotency key: the same id is one payment.")
    amount: DecimalText = Field(description="Decimal amount in major units, e.g. 120.50")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Defaults to the account's currency."
    )
    debt_id: str | None = None
    method: Literal["card", "ach", "check", "cash", "other"] = "other"
    received_at: Instant | None = Field(default=None, description="Defaults to now.")


class PaymentOut(BaseModel):
    payment_id: str
    account_id: str
    debt_id: str
    amount: Amount
    remaining_balance: Amount
    method: str
    received_at: datetime
    replayed: bool = Field(description="True when this payment_id was already recorded.")

    @classmethod
    def of(cls, p: Payment, replayed: bool) -> PaymentOut:
        return cls(
            payment_id=p.payment_id,
            account_id=p.account_id,
            debt_id=p.debt_id,
            amount=Amount.of(p.amount_minor, p.currency),
            remaining_balance=Amount.of(p.remaining_balance_minor, p.currency),
            method=p.method,
            received_at=p.received_at,
            replayed=replayed,
        )


class PlanIn(Body):
    plan_id: Identifier = Field(description="Idempotency key.")
    instalment: DecimalText
    instalments: int = Field(ge=1, le=600)
    first_due: date
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    debt_id: str | None = None


class PlanOut(BaseModel):
    plan_id: str
    account_id: str
    debt_id: str
    instalment: Amount
    instalments: int
    first_due: date
    agreed_at: datetime
    replayed: bool = False

    @classmethod
    def of(cls, p: PaymentPlan, replayed: bool = False) -> PlanOut:
        return cls(
            plan_id=p.plan_id,
            account_id=p.account_id,
            debt_id=p.debt_id,
            instalment=Amount.of(p.instalment_minor, p.currency),
            instalments=p.instalments,
            first_due=p.first_due,
            agreed_at=p.agreed_at,
            replayed=replayed,
        )


class SignalIn(Body):
    signal_id: str = Field(
        min_length=1, max_length=128, description="Idempotency key chosen by the client."
    )
    kind: SignalKind = Field(
        description="disputed, dispute_verified, cease_requested, attorney_represented, "
        "bankruptcy_filed, deceased, opted_out, medium_restricted, inconvenient_time, "
        "promised_to_pay"
    )
    text: str | None = Field(default=None, max_length=2000)
    channel: Channel | None = None
    address: str | None = Field(default=None, description="The E.164 number or email concerned.")
    debt_id: str | None = None
    occurred_at: Instant | None = None
    details: dict[str, str] = Field(default_factory=dict)


class SignalOut(BaseModel):
    account_id: str
    signal_id: str
    kind: str
    ce_id: str
    occurred_at: datetime
    replayed: bool


# --- accounts -------------------------------------------------------------------------


class FlagOut(BaseModel):
    flag: str
    scope: str
    active: bool
    changed_at: datetime
    kind: str
    source: str
    signal_id: str
    detail: str | None

    @classmethod
    def of(cls, f: ConsumerFlag) -> FlagOut:
        return cls(
            flag=f.flag,
            scope=f.scope,
            active=f.active,
            changed_at=f.changed_at,
            kind=f.kind,
            source=f.source,
            signal_id=f.signal_id,
            detail=f.detail,
        )


class DisputeOut(BaseModel):
    dispute_id: str
    debt_id: str | None
    signal_id: str
    source: str
    detail: str | None
    opened_at: datetime
    verified_at: datetime | None

    @classmethod
    def of(cls, d: Dispute) -> DisputeOut:
        return cls(
            dispute_id=d.dispute_id,
            debt_id=d.debt_id,
            signal_id=d.signal_id,
            source=d.source,
            detail=d.detail,
            opened_at=d.opened_at,
            verified_at=d.verified_at,
        )


class AccountOut(BaseModel):
    account_id: str
    revision: int
    status: str
    balance: Amount = Field(description="Imported balance less payments.")
    imported_balance: Amount
    paid: Amount
    consumer: dict[str, Any]
    debt: dict[str, Any] = Field(description="The debt as imported.")
    flags: list[FlagOut]
    disputes: list[DisputeOut]
    payments: list[PaymentOut]
    plans: list[PlanOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: AccountView) -> AccountOut:
        a: Account = view.account
        return cls(
            account_id=a.account_id,
            revision=a.revision,
            status=a.status,
            balance=Amount.of(a.balance_minor, a.currency),
            imported_balance=Amount.of(a.imported_balance_minor, a.currency),
            paid=Amount.of(a.paid_minor, a.currency),
            consumer=a.consumer,
            debt=a.debt,
            flags=[FlagOut.of(f) for f in view.flags],
            disputes=[DisputeOut.of(d) for d in view.disputes],
            payments=[PaymentOut.of(p, False) for p in view.payments],
            plans=[PlanOut.of(p) for p in view.plans],
            created_at=a.created_at,
            updated_at=a.updated_at,
        )


# --- communications -------------------------------------------------------------------


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


class EventOut(BaseModel):
    ce_id: str
    ce_type: str
    ce_source: str
    kind: str
    outcome: str
    step_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    traceparent: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, e: CommunicationEvent) -> EventOut:
        return cls(
            ce_id=e.ce_id,
            ce_type=e.ce_type,
            ce_source=e.ce_source,
            kind=e.kind,
            outcome=e.outcome,
            step_id=e.step_id,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            traceparent=e.traceparent,
            payload=e.payload,
        )


class CommunicationsOut(BaseModel):
    account_id: str
    steps: list[StepOut]
    events: list[EventOut] | None = Field(
        default=None, description="Every recorded event, with ?detail=events."
    )


# --- one step -------------------------------------------------------------------------


class DecisionOut(BaseModel):
    """One recorded gate decision, as the gate sent it."""

    decided_at: datetime
    decision: Decision
    policy_version: str
    not_before: datetime | None = Field(description="When a deferred step may be tried again.")
    findings: list[RuleFinding] = Field(
        description="Each rule that objected: action, rule id, explanation and its inputs."
    )
    inputs: dict[str, Any] = Field(description="What the gate knew when it decided.")

    @classmethod
    def of(cls, e: StepDecided) -> DecisionOut:
        return cls(
            decided_at=e.decided_at,
            decision=e.decision,
            policy_version=e.policy_version,
            not_before=e.not_before,
            findings=list(e.findings),
            inputs=e.inputs,
        )


class DeliveryEventOut(BaseModel):
    """One recorded delivery status change."""

    status: DeliveryStatus
    occurred_at: datetime
    provider: str
    provider_message_id: str | None
    error_code: str | None
    detail: str | None

    @classmethod
    def of(cls, e: DeliveryUpdated) -> DeliveryEventOut:
        return cls(
            status=e.status,
            occurred_at=e.occurred_at,
            provider=e.provider,
            provider_message_id=e.provider_message_id,
            error_code=e.error_code,
            detail=e.detail,
        )


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
            decisions=[DecisionOut.of(d) for d in view.decisions],
            deliveries=[DeliveryEventOut.of(d) for d in view.deliveries],
        )
