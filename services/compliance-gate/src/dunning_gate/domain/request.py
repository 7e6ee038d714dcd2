"""What the gate is asked to judge: one planned step plus everything known about it.

These frozen models are the gate's own input contract (independent of the event
contracts, which the service maps onto them) and, as JSON Schema, the documented
format of a what-if file for `dunning gate evaluate FILE`. Unknown keys are refused:
a misspelt flag must never be silently ignored by a compliance check.

Instants are timezone-aware (any offset; compared as instants). Phone numbers are E.164,
checked with `phonenumbers`; time zones are IANA names known to zoneinfo.
"""

from __future__ import annotations

import re
from datetime import date, time
from functools import lru_cache
from typing import Annotated, Any, Literal

import phonenumbers
import pydantic
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from dunning_gate.policy import vocabulary
from dunning_gate.policy.model import IanaZone
from dunning_gate.policy.vocabulary import Channel

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=1024)
def parsed_number(number: str) -> phonenumbers.PhoneNumber | None:
    """`phonenumbers.parse(number, None)` (~30 µs), or None if it cannot be parsed.

    Shared by validation and the zone lookup, which ask about the same numbers within
    one decision. Callers must not modify the object returned."""
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=65536)
def _is_valid_e164(number: str) -> bool:
    if not _E164.match(number):
        return False
    parsed = parsed_number(number)
    return parsed is not None and bool(phonenumbers.is_valid_number(parsed))


def _e164(value: str) -> str:
    if not _is_valid_e164(value):
        raise ValueError(f"{_masked(value)} is not a valid E.164 phone number (e.g. +12125550123)")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value.lower()


def _masked(value: str) -> str:
    """Error messages end up in records and logs: never carry the full number."""
    return value[:4] + "…" if len(value) > 6 else "…"


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def is_phone_destination(channel: str) -> bool:
    return channel in vocabulary.PHONE_CHANNELS


PhoneNumber = Annotated[str, AfterValidator(_e164)]
EmailAddress = Annotated[str, AfterValidator(_email)]
StateCode = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{2}$")]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")]
TcpaConsentSource = Literal["creditor_provided", "consumer_provided", "express_written", "none"]
AddressBasisKind = Literal["consumer_used", "consented", "creditor_notice", "none"]


class Content(_Input):
    """The exact rendered message the gate vets (and whose hash it stamps)."""

    subject: str | None = None
    body: str = Field(min_length=1)
    locale: str = "en-US"
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Email headers, e.g. List-Unsubscribe and List-Unsubscribe-Post.",
    )


class Step(_Input):
    """One planned outreach step."""

    step_id: str = Field(min_length=1)
    account_id: str = Field(min_length=1)
    debt_id: str = Field(min_length=1)
    channel: Channel
    stage: vocabulary.Stage
    attempt: int = Field(ge=1)
    destination: str = Field(description="E.164 number for sms/voice, email address for email.")
    content: Content
    content_hash: str = Field(min_length=1)
    is_first_communication: bool = False
    is_reply_to_consumer_initiated: bool = Field(
        default=False,
        description="A reply, in the same medium, to a message the consumer started.",
    )
    includes_validation_information: bool = Field(
        default=False, description="The message carries the Reg F validation notice."
    )
    limited_content: bool = Field(
        default=False,
        description="A Reg F limited-content voicemail; ignored for sms/email "
        "(texts are never limited-content messages).",
    )
    is_first_written_notice: bool | None = Field(
        default=None,
        description="First written notice to the consumer; null = same as is_first_communication.",
    )
    planned_at: AwareDatetime | None = None

    @pydantic.field_validator("destination")
    @classmethod
    def _destination_fits_channel(cls, value: str, info: pydantic.ValidationInfo) -> str:
        channel = info.data.get("channel")
        if channel is None:  # the channel itself was invalid and is reported
            return value
        return _e164(value) if is_phone_destination(channel) else _email(value)


class PhoneRecord(_Input):
    number: PhoneNumber
    line_type: Literal["mobile", "home", "work", "other"] = "mobile"
    consent: TcpaConsentSource = Field(
        default="none", description="Source of TCPA prior express consent for this number."
    )
    basis: AddressBasisKind = Field(
        default="none", description="Reg F 1006.6(d)(5) basis for texting this number."
    )
    basis_on: date | None = Field(
        default=None, description="For creditor_notice: the date the creditor's notice was sent."
    )
    reassigned_checked_on: date | None = None


class EmailRecord(_Input):
    address: EmailAddress
    basis: AddressBasisKind = "none"
    basis_on: date | None = Field(
        default=None, description="For creditor_notice: the date the creditor's notice was sent."
    )
    workplace: bool = Field(default=False, description="Known to be employer-provided.")


class InconvenientTime(_Input):
    """A local time range the consumer called inconvenient ("not before noon" = 00:00-12:00).

    [start, end) in local wall time of every candidate zone; end <= start wraps past
    midnight; start == end means the whole day."""

    start: time
    end: time
    weekdays: tuple[Weekday, ...] = Field(default=(), description="Empty = every day.")
    channels: tuple[Channel, ...] = Field(default=(), description="Empty = every channel.")


class ConsentedTime(_Input):
    """The consumer's direct prior consent to be contacted in [start, end)."""

    start: AwareDatetime
    end: AwareDatetime
    channels: tuple[Channel, ...] = ()

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> ConsentedTime:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class OptOut(_Input):
    """A recorded opt-out. channel/address null = every channel/address."""

    channel: Channel | None = None
    address: str | None = None
    source: Literal["keyword", "unsubscribe", "spam_report", "provider_error", "operator"] = (
        "operator"
    )
    at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = Field(
        default=None, description="A later opt-in (e.g. START) that revoked this opt-out."
    )


class InboundMessage(_Input):
    """A message the consumer sent us; opt-out keywords in it count as an opt-out."""

    channel: Channel
    from_address: str
    text: str
    received_at: AwareDatetime


class MediumRestriction(_Input):
    """ "Stop emailing me", "don't use this number". Null = every channel/address."""

    channel: Channel | None = None
    address: str | None = None
    at: AwareDatetime | None = None


class Consumer(_Input):
    state: StateCode | None = None
    zip: str | None = Field(default=None, pattern=r"^\d{5}(-\d{4})?$")
    city: str | None = None
    phones: tuple[PhoneRecord, ...] = ()
    emails: tuple[EmailRecord, ...] = ()
    inconvenient_times: tuple[InconvenientTime, ...] = ()
    consented_times: tuple[ConsentedTime, ...] = ()
    opt_outs: tuple[OptOut, ...] = ()
    inbound_messages: tuple[InboundMessage, ...] = ()
    restricted_media: tuple[MediumRestriction, ...] = ()
    cease_requested: bool = False
    attorney_represented: bool = False
    bankruptcy_filed: bool = False
    deceased: bool = False
    outreach_paused: bool = Field(
        default=False, description="An operator paused outreach to the account (not a law)."
    )
    nyc_electronic_consent: bool = Field(
        default=False, description="Written, revocable consent to electronic contact (NYC)."
    )
    candidate_zones: tuple[IanaZone, ...] | None = Field(
        default=None,
        description="Precomputed candidate IANA zones (see candidate_zones()); "
        "null = computed from address and phone numbers.",
    )


class Dispute(_Input):
    status: Literal["pending", "verified"]
    received_at: AwareDatetime
    written: bool = Field(default=True, description="Email, portal and text count as writing.")
    kind: Literal["dispute", "original_creditor_request"] = "dispute"


class Debt(_Input):
    debt_id: str = Field(min_length=1)
    creditor: str = Field(min_length=1)
    collector_type: vocabulary.CollectorType = "third_party_collector"
    medical: bool = False
    nv_written_notice_at: AwareDatetime | None = Field(
        default=None, description="Nevada medical debt: when the written notice was sent."
    )
    validation_notice_sent_at: AwareDatetime | None = None
    first_communication_at: AwareDatetime | None = None
    disputes: tuple[Dispute, ...] = ()
    limitation_date: date | None = Field(
        default=None, description="Statute-of-limitations date, when known."
    )
    defaulted_on: date | None = Field(
        default=None, description="Default date (first missed payment): the debt accrued."
    )
    charged_off_on: date | None = Field(default=None, description="Charge-off date.")
    last_payment_date: date | None = Field(
        default=None,
        description="Restarts the limitation period only where the state lets a payment "
        "revive the debt (not NY, TX, WI, ...: statute_of_limitations.payment_revives).",
    )
    governing_state: StateCode | None = Field(
        default=None, description="State whose limitation period applies; null = consumer's."
    )
    legal_action_authorized: bool = False
    ca_license_number: str | None = None


class ContactAttempt(_Input):
    """One earlier attempt to reach the consumer."""

    at: AwareDatetime
    channel: Channel
    debt_ids: tuple[str, ...] = Field(min_length=1)
    destination: str
    outcome: vocabulary.AttemptOutcome
    conversation: bool = Field(default=False, description="A telephone conversation took place.")
    collector_initiated: bool = True
    at_work: bool | None = Field(
        default=None, description="Reached the consumer at work; null = derive from destination."
    )
    provider_error_code: str | None = None


class PrecomputedWindow(_Input):
    """Counts kept by the caller (e.g. Redis): for one counter key, the instant at which
    each counted attempt leaves its window. Keys: see `frequency.counter_keys`."""

    key: str
    release_times: tuple[AwareDatetime, ...]


class History(_Input):
    attempts: tuple[ContactAttempt, ...] = ()
    precomputed: tuple[PrecomputedWindow, ...] = ()
    last_conversation_at: AwareDatetime | None = Field(
        default=None, description="Last telephone conversation about this debt, if not in attempts."
    )


class EvaluationRequest(_Input):
    """Everything the gate needs to decide one step at instant `now`."""

    step: Step
    consumer: Consumer
    debt: Debt
    history: History = History()
    now: AwareDatetime

    @pydantic.model_validator(mode="after")
    def _same_debt(self) -> EvaluationRequest:
        if self.step.debt_id != self.debt.debt_id:
            raise ValueError("step.debt_id does not match debt.debt_id")
        return self


def request_json_schema() -> dict[str, Any]:
    """JSON Schema of a what-if file (one `EvaluationRequest`)."""
    return EvaluationRequest.model_json_schema()


__all__ = [
    "ConsentedTime",
    "Consumer",
    "ContactAttempt",
    "Content",
    "Debt",
    "Dispute",
    "EmailRecord",
    "EvaluationRequest",
    "History",
    "InboundMessage",
    "InconvenientTime",
    "MediumRestriction",
    "OptOut",
    "PhoneRecord",
    "PrecomputedWindow",
    "Step",
    "parsed_number",
    "request_json_schema",
]
