"""Every event of the platform, as typed frozen models.

Each class names its CloudEvents type in ``event_type`` (``<domain>.<past_tense>.v<N>``)
and the topic it travels on in ``topic``. Within a version only optional fields may be
added; a breaking change is a new ``.v2`` class published beside the old one.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import EmailStr, Field

from dunning_core.contracts.common import (
    E164,
    Channel,
    Frozen,
    Instant,
    MessageContent,
    Money,
    Stage,
)
from dunning_core.contracts.common import Event as Event  # re-exported: its old home
from dunning_core.contracts.holds import HOLD_EVENTS
from dunning_core.contracts.holds import StepHeld as StepHeld
from dunning_core.contracts.holds import StepWithdrawn as StepWithdrawn
from dunning_core.contracts.payments import PAYMENT_EVENTS
from dunning_core.contracts.payments import PaymentReceived as PaymentReceived
from dunning_core.contracts.payments import PlanAgreed as PlanAgreed

# --- accounts.v1 -----------------------------------------------------------------


class PhoneConsent(StrEnum):
    """Where the prior express consent for a number comes from (TCPA)."""

    CREDITOR_PROVIDED = "creditor_provided"
    CONSUMER_PROVIDED = "consumer_provided"
    EXPRESS_WRITTEN = "express_written"
    NONE = "none"


class AddressBasis(StrEnum):
    """The Reg F safe-harbour basis for using an electronic address."""

    CONSUMER_USED = "consumer_used"
    CONSENTED = "consented"
    CREDITOR_NOTICE = "creditor_notice"
    NONE = "none"


class PhoneContact(Frozen):
    number: E164
    kind: Literal["mobile", "home", "work", "other"] = "mobile"
    consent: PhoneConsent = PhoneConsent.CREDITOR_PROVIDED
    basis: AddressBasis = AddressBasis.CONSUMER_USED
    basis_on: date | None = None
    reassigned_checked_on: date | None = None
    consent_source: str | None = Field(
        default=None, description="Where the consent came from (a recorded call, a web form...)."
    )
    consent_at: Instant | None = Field(default=None, description="When the consent was given.")


class EmailContact(Frozen):
    address: EmailStr
    basis: AddressBasis = AddressBasis.CONSUMER_USED
    basis_on: date | None = None
    workplace: bool = False


class Consumer(Frozen):
    full_name: str = Field(min_length=1)
    locale: str = "en_US"
    state: str = Field(pattern=r"^[A-Z]{2}$")
    zip_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    city: str | None = None
    time_zones: tuple[str, ...] = Field(
        default=(), description="Candidate IANA zones from the address and phone numbers."
    )
    phones: tuple[PhoneContact, ...] = ()
    emails: tuple[EmailContact, ...] = ()
    nyc_electronic_consent: bool = False


ItemizationBasis = Literal[
    "last_statement", "charge_off", "last_payment", "transaction", "judgment"
]
"""Which Regulation F reference date the itemization date is (12 CFR 1006.34(b)(3))."""


class Itemization(Frozen):
    """Regulation F's itemization of the debt, as the creditor gave it: the amount owed on
    the itemization date and the interest, fees, payments and credits since, in the debt's
    currency's minor units. The balance is ``amount + interest + fees - payments - credits``.
    """

    itemization_date: date
    basis: ItemizationBasis
    amount_minor: int = Field(ge=0, description="Owed on the itemization date.")
    interest_minor: int = Field(default=0, ge=0)
    fees_minor: int = Field(default=0, ge=0)
    payments_minor: int = Field(default=0, ge=0)
    credits_minor: int = Field(default=0, ge=0)


class Debt(Frozen):
    debt_id: str = Field(min_length=1, max_length=64)
    creditor: str = Field(min_length=1)
    balance: Money
    due_date: date
    delinquent_since: date | None = None
    collector_type: Literal["first_party", "third_party"] = "third_party"
    medical: bool = False
    legal_action_authorized: bool = False
    limitation_date: date | None = None
    validation_notice_sent_at: Instant | None = None
    ca_license_number: str | None = None
    charged_off_on: date | None = Field(
        default=None, description="Charge-off date: with delinquent_since, when the debt accrued."
    )
    last_payment_date: date | None = Field(
        default=None,
        description="Last payment before import; restarts the limitation period only where "
        "the governing state lets a payment revive the debt.",
    )
    # Left out of the JSON when absent: a debt imported without one keeps its fingerprint.
    itemization: Itemization | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The creditor's itemization (Regulation F); absent when not given.",
    )


class AccountOpened(Event):
    """Sent when the ledger records a new account (import or API)."""

    event_type: ClassVar[str] = "account.opened.v1"
    topic: ClassVar[str] = "accounts.v1"

    revision: int = Field(ge=1, description="Ledger revision of the account; increases by 1.")
    consumer: Consumer
    debt: Debt
    opened_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.account_id, self.revision)


class AccountUpdated(Event):
    """Sent when an account's data changes (an import or an operator): the full snapshot."""

    event_type: ClassVar[str] = "account.updated.v1"
    topic: ClassVar[str] = "accounts.v1"

    revision: int = Field(ge=1)
    consumer: Consumer
    debt: Debt
    updated_at: Instant
    changed: tuple[str, ...] = Field(
        default=(), description="What an operator changed (phones, emails, locale, flags...)."
    )
    recorded_by: str | None = Field(
        default=None, description="The API key's principal, when changed through the API."
    )

    def natural_key(self) -> tuple[object, ...]:
        return (self.account_id, self.revision)


# --- outreach.planned.v1 / outreach.approved.*.v1 ---------------------------------


class OutreachStep(Frozen):
    """One escalation step: who, how, what, when. Shared by plan and approval."""

    step_id: str
    debt_id: str
    stage: Stage
    channel: Channel
    attempt: int = Field(ge=1)
    destination: str = Field(min_length=3, description="E.164 number or email address.")
    content: MessageContent
    content_hash: str
    send_at: Instant
    first_communication: bool = False


class _OfStep(Event):
    """An event carrying the whole step: the scheduler's plan, the gate's approval."""

    step: OutreachStep

    def natural_key(self) -> tuple[object, ...]:
        # A re-plan of the same step for a later instant is a new fact, and so is its
        # approval, which a worker's dedupe must not take for the first; a replay is not.
        return (self.step.step_id, self.step.send_at.isoformat())


class StepPlanned(_OfStep):
    """Sent when the scheduler plans (or re-plans after a deferral) an escalation step."""

    event_type: ClassVar[str] = "step.planned.v1"
    topic: ClassVar[str] = "outreach.planned.v1"

    planned_at: Instant
    escalation_policy: str = "default"


class StepApproved(_OfStep):
    """Sent when the gate allows a step; the worker sends exactly this content."""

    event_type: ClassVar[str] = "step.approved.v1"
    topic: ClassVar[str] = "outreach.approved.{channel}.v1"

    approved_at: Instant
    policy_version: str
    send_by: Instant | None = Field(
        default=None,
        description=(
            "The end of the window in which the gate found the step allowed: the earliest "
            "close over every candidate time zone and every cap window the approval relies "
            "on. A worker never sends after it; the step goes back to be re-planned."
        ),
    )

    def target_topic(self) -> str:
        return approved_topic(self.step.channel)


def approved_topic(channel: Channel) -> str:
    return f"outreach.approved.{channel.value}.v1"


# --- outreach.decisions.v1 --------------------------------------------------------


class Decision(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    BLOCK = "block"


class RuleFinding(Frozen):
    """One rule's verdict with the inputs that decided it."""

    rule_id: str
    action: Literal["defer", "block"]
    explanation: str
    not_before: Instant | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)


class StepDecided(Event):
    """Sent when the gate has vetted a step: allowed, deferred (with not_before) or blocked."""

    event_type: ClassVar[str] = "step.decided.v1"
    topic: ClassVar[str] = "outreach.decisions.v1"

    step_id: str
    planned_event_id: str
    debt_id: str
    stage: Stage
    channel: Channel
    attempt: int = Field(ge=1)
    destination: str | None = None
    decision: Decision
    not_before: Instant | None = None
    findings: tuple[RuleFinding, ...] = ()
    inputs: dict[str, Any] = Field(default_factory=dict)
    policy_version: str
    content_hash: str
    decided_at: Instant
    content: MessageContent | None = Field(
        default=None,
        description="The message the gate vetted (subject, body, locale, headers), whole: "
        "the text a worker sends when the step is allowed (its hash is content_hash). The "
        "ledger keeps it in the communication log of record. None from gates before it.",
    )

    def natural_key(self) -> tuple[object, ...]:
        return (self.step_id, self.planned_event_id)


# --- delivery.v1 ------------------------------------------------------------------


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"  # the provider took the message
    REJECTED = "rejected"  # the provider refused it synchronously
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    REFUSED = "refused"  # our worker refused: content hash mismatch or suppressed
    EXPIRED = "expired"  # the approval's send_by passed before sending: nothing sent, re-planned

    @property
    def final(self) -> bool:
        """No later status follows for this approval (an expired step is re-planned)."""
        return self not in (DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.EXPIRED)


class DeliveryUpdated(Event):
    """Sent when a step's delivery status changes (provider answer or callback)."""

    event_type: ClassVar[str] = "delivery.updated.v1"
    topic: ClassVar[str] = "delivery.v1"

    step_id: str
    channel: Channel
    provider: Literal["twilio", "sendgrid", "none"]
    provider_message_id: str | None = None
    status: DeliveryStatus
    error_code: str | None = None
    detail: str | None = None
    occurred_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.step_id, self.provider_message_id, self.status.value, self.error_code)


# --- consumer.signals.v1 ----------------------------------------------------------


class SignalKind(StrEnum):
    OPTED_OUT = "opted_out"  # STOP and synonyms, provider 21610
    OPTED_IN = "opted_in"  # START / UNSTOP
    HELP_REQUESTED = "help_requested"
    REPLIED = "replied"
    UNSUBSCRIBED = "unsubscribed"
    SPAM_REPORTED = "spam_reported"
    MEDIUM_RESTRICTED = "medium_restricted"
    INCONVENIENT_TIME = "inconvenient_time"
    DISPUTED = "disputed"
    DISPUTE_VERIFIED = "dispute_verified"
    CEASE_REQUESTED = "cease_requested"
    ATTORNEY_REPRESENTED = "attorney_represented"
    BANKRUPTCY_FILED = "bankruptcy_filed"
    DECEASED = "deceased"
    PROMISED_TO_PAY = "promised_to_pay"
    ENGAGED = "engaged"  # an e-mail opened or a link clicked (details["event"])
    # An operator stopped outreach to the account (text: the reason; details["until"]: the
    # instant it ends by itself, when given), and its end (an operator, or the ledger at
    # "until"). Not the consumer's words: source is "operator".
    OUTREACH_PAUSED = "outreach_paused"
    OUTREACH_RESUMED = "outreach_resumed"


class ConsumerSignaled(Event):
    """Sent when the consumer (or an operator on their behalf) tells us something."""

    event_type: ClassVar[str] = "consumer.signaled.v1"
    topic: ClassVar[str] = "consumer.signals.v1"

    signal_id: str = Field(min_length=1, max_length=128)
    kind: SignalKind
    channel: Channel | None = None
    address: str | None = Field(default=None, description="The E.164 number or email concerned.")
    debt_id: str | None = None
    text: str | None = Field(default=None, max_length=2000)
    source: Literal["sms", "email", "operator", "provider"]
    occurred_at: Instant
    details: dict[str, str] = Field(default_factory=dict)

    def natural_key(self) -> tuple[object, ...]:
        return (self.signal_id, self.account_id, self.kind.value)


ALL_EVENTS: tuple[type[Event], ...] = (
    AccountOpened,
    AccountUpdated,
    *PAYMENT_EVENTS,
    StepPlanned,
    *HOLD_EVENTS,
    StepApproved,
    StepDecided,
    DeliveryUpdated,
    ConsumerSignaled,
)

EVENTS_BY_TYPE: dict[str, type[Event]] = {e.event_type: e for e in ALL_EVENTS}
