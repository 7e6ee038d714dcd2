"""payments.v1: the money events, a public contract (docs/payments-events.md).

The ledger owns plans, promises, settlements and installments and is the only producer.
Every event is keyed by ``account_id``: one account's money events arrive in the order the
ledger committed them. Each event's ``ce_id`` derives from its natural key, which names the
occurrence (not just the arrangement): an arrangement that ends again after a reversal
reopened it (a plan completed twice, a promise kept twice) carries the payment that ended
it this time, so a consumer deduplicates on ``ce_id`` alone and never skips a new
occurrence, while a redelivery of the same one keeps its id. Amounts are integer minor units
plus an ISO 4217 currency; due dates are calendar dates in the consumer's time zone; instants
are UTC with an offset.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from dunning_core.contracts.common import Event, Frozen, Instant, Money

PaymentMethod = Literal["card", "ach", "check", "cash", "other"]
"""How a payment was made."""

Source = Literal["api", "page", "processor", "operator", "system"]
"""Who entered a change: the REST API, the consumer's payment page, the card processor's
callback, an operator's screen, or the ledger itself (a due date passing)."""

ReversalReason = Literal["chargeback", "nsf", "processor_failure", "error", "other"]
Frequency = Literal["weekly", "biweekly", "monthly"]
SettledHow = Literal["paid_in_full", "settlement", "plan_completed"]

_ID = Field(min_length=1, max_length=64)


class PaymentsEvent(Event):
    """Base of every payments.v1 event: they all travel on the one topic."""

    topic: ClassVar[str] = "payments.v1"


class Installment(Frozen):
    """One installment of a plan: its number (from 1), due date and amount."""

    seq: int = Field(ge=1)
    due_on: date
    amount: Money


class PaymentReceived(PaymentsEvent):
    """Sent when the ledger has durably recorded a payment against an account."""

    event_type: ClassVar[str] = "payment.received.v1"

    payment_id: str = _ID
    debt_id: str
    amount: Money
    remaining_balance: Money
    received_at: Instant
    method: PaymentMethod = "other"
    plan_id: str | None = Field(default=None, description="The plan the payment went to.")
    installments: list[int] = Field(
        default_factory=list, description="The plan's installments (seq) it paid or part-paid."
    )
    credit: Money | None = Field(
        default=None, description="The part beyond the balance, kept as a credit (never refused)."
    )
    source: Source | None = None

    def natural_key(self) -> tuple[object, ...]:
        return (self.payment_id,)


class PaymentReversed(PaymentsEvent):
    """Sent when a recorded payment is taken back (chargeback, NSF...): the balance returns."""

    event_type: ClassVar[str] = "payment.reversed.v1"

    payment_id: str = _ID
    debt_id: str
    amount: Money
    reason: ReversalReason
    remaining_balance: Money
    reversed_at: Instant
    plan_id: str | None = None
    source: Source | None = None

    def natural_key(self) -> tuple[object, ...]:
        return (self.payment_id, "reversed")


class CreditRecorded(PaymentsEvent):
    """Sent when a payment went beyond the balance: the excess is a credit to refund or apply."""

    event_type: ClassVar[str] = "credit.recorded.v1"

    payment_id: str = _ID
    debt_id: str
    credit: Money
    recorded_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.payment_id,)


class PlanAgreed(PaymentsEvent):
    """Sent when a payment plan is agreed for an account's debt."""

    event_type: ClassVar[str] = "plan.agreed.v1"

    plan_id: str = _ID
    debt_id: str
    instalment: Money = Field(description="The regular installment (the schedule is exact).")
    instalments: int = Field(ge=1)
    first_due: date
    agreed_at: Instant
    frequency: Frequency | None = None
    total: Money | None = None
    schedule: list[Installment] = Field(
        default_factory=list, description="Every installment; the amounts add up to `total`."
    )
    source: Source | None = None

    def natural_key(self) -> tuple[object, ...]:
        return (self.plan_id,)


class InstallmentMissed(PaymentsEvent):
    """Sent when an installment is not paid in full by its due date plus the grace days."""

    event_type: ClassVar[str] = "installment.missed.v1"

    plan_id: str = _ID
    debt_id: str
    seq: int = Field(ge=1)
    due_on: date
    amount_due: Money
    amount_paid: Money
    missed_count: int = Field(ge=1, description="Installments of the plan missed so far.")
    detected_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.plan_id, self.seq)


class PlanBroken(PaymentsEvent):
    """Sent when a plan has missed as many installments as the terms allow: it has ended."""

    event_type: ClassVar[str] = "plan.broken.v1"

    plan_id: str = _ID
    debt_id: str
    missed_count: int = Field(ge=1)
    remaining_balance: Money
    broken_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.plan_id,)


class PlanCompleted(PaymentsEvent):
    """Sent when every installment of a plan is paid: it has ended."""

    event_type: ClassVar[str] = "plan.completed.v1"

    plan_id: str = _ID
    debt_id: str
    completed_at: Instant
    by_payment_id: str | None = Field(
        default=None,
        description="The payment that paid the last installment (a plan reopened by a "
        "reversal completes again with another).",
    )

    def natural_key(self) -> tuple[object, ...]:
        return (self.plan_id,) if self.by_payment_id is None else (self.plan_id, self.by_payment_id)


class PromiseMade(PaymentsEvent):
    """Sent when the consumer promises to pay an amount by a date."""

    event_type: ClassVar[str] = "promise.made.v1"

    promise_id: str = _ID
    debt_id: str
    amount: Money
    due_on: date
    made_at: Instant
    source: Source | None = None

    def natural_key(self) -> tuple[object, ...]:
        return (self.promise_id,)


class PromiseKept(PaymentsEvent):
    """Sent when payments since the promise reach its amount by its date."""

    event_type: ClassVar[str] = "promise.kept.v1"

    promise_id: str = _ID
    debt_id: str
    payment_id: str = Field(description="The payment that completed the promised amount.")
    kept_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        # A promise reopened by a reversal may be kept again, by another payment.
        return (self.promise_id, self.payment_id)


class PromiseBroken(PaymentsEvent):
    """Sent when a promise's date has passed without its amount paid."""

    event_type: ClassVar[str] = "promise.broken.v1"

    promise_id: str = _ID
    debt_id: str
    due_on: date
    amount_paid: Money
    broken_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.promise_id,)


class SettlementAgreed(PaymentsEvent):
    """Sent when the consumer accepts a lump sum below the balance, to be paid by a date."""

    event_type: ClassVar[str] = "settlement.agreed.v1"

    settlement_id: str = _ID
    debt_id: str
    amount: Money
    balance: Money = Field(description="The balance when the settlement was agreed.")
    pay_by: date
    agreed_at: Instant
    source: Source | None = None

    def natural_key(self) -> tuple[object, ...]:
        return (self.settlement_id,)


class SettlementLapsed(PaymentsEvent):
    """Sent when a settlement's pay-by date has passed without its amount paid: the offer
    is void, the whole balance is owed again and collection resumes."""

    event_type: ClassVar[str] = "settlement.lapsed.v1"

    settlement_id: str = _ID
    debt_id: str
    amount: Money = Field(description="The settlement amount that was not paid in time.")
    amount_paid: Money = Field(description="What was paid toward it by its pay-by date.")
    pay_by: date
    remaining_balance: Money = Field(description="The balance owed now that it has lapsed.")
    lapsed_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        # A lapsed settlement stays lapsed (a reversal reopens only a paid one): once each.
        return (self.settlement_id,)


class AccountSettled(PaymentsEvent):
    """Sent when nothing more is owed: the balance reached zero, or a settlement was paid."""

    event_type: ClassVar[str] = "account.settled.v1"

    debt_id: str
    how: SettledHow
    by_payment_id: str = Field(description="The payment that settled the account.")
    settlement_id: str | None = None
    settled_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.debt_id, self.by_payment_id)


class AccountReopened(PaymentsEvent):
    """Sent when a reversal brings a balance back to a settled account."""

    event_type: ClassVar[str] = "account.reopened.v1"

    debt_id: str
    by_payment_id: str = Field(description="The reversed payment.")
    remaining_balance: Money
    reopened_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.debt_id, self.by_payment_id)


PAYMENT_EVENTS: tuple[type[Event], ...] = (
    PaymentReceived,
    PaymentReversed,
    CreditRecorded,
    PlanAgreed,
    InstallmentMissed,
    PlanBroken,
    PlanCompleted,
    PromiseMade,
    PromiseKept,
    PromiseBroken,
    SettlementAgreed,
    SettlementLapsed,
    AccountSettled,
    AccountReopened,
)
"""Every event type of payments.v1, in the order docs/payments-events.md presents them."""
