"""The account bodies: one account with its flags, disputes, payments and plans;
search hits; the timeline; changes and notes."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from dunning_core.contracts.common import Instant
from dunning_core.contracts.events import AddressBasis, EmailContact, PhoneConsent
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dunning_ledger.communications.schemas import DisputeOut, FlagOut
from dunning_ledger.domain.search import days_past_due
from dunning_ledger.domain.timeline import MESSAGE_BODIES
from dunning_ledger.payments.schemas import (
    Amount,
    Body,
    Identifier,
    NextCursor,
    PaymentOut,
    PlainText,
    Record,
)
from dunning_ledger.plans.schemas import PlanOut

if TYPE_CHECKING:
    from dunning_ledger.accounts.service import AccountView
    from dunning_ledger.accounts.timeline import Timeline
    from dunning_ledger.models import Account


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
            flags=[FlagOut.model_validate(f) for f in view.flags],
            disputes=[DisputeOut.model_validate(d) for d in view.disputes],
            payments=[PaymentOut.of(p, False) for p in view.payments],
            plans=[PlanOut.of(p) for p in view.plans],
            created_at=a.created_at,
            updated_at=a.updated_at,
        )


class AccountHit(BaseModel):
    """One account in a search result: who, where, how much, how late."""

    account_id: str
    full_name: str
    state: str
    status: str
    balance: Amount
    due_date: date | None
    days_past_due: int | None = Field(description="Days since the due date, as of `as_of`.")
    phones: list[str]
    emails: list[str]

    @classmethod
    def of(cls, a: Account, today: date) -> AccountHit:
        due_text = a.debt.get("due_date")
        due = date.fromisoformat(due_text) if isinstance(due_text, str) else None
        return cls(
            account_id=a.account_id,
            full_name=str(a.consumer.get("full_name", "")),
            state=str(a.consumer.get("state", "")),
            status=a.status,
            balance=Amount.of(a.balance_minor, a.currency),
            due_date=due,
            days_past_due=None if due is None else days_past_due(today, due),
            phones=[p["number"] for p in a.consumer.get("phones", ())],
            emails=[e["address"] for e in a.consumer.get("emails", ())],
        )


class AccountPage(BaseModel):
    accounts: list[AccountHit]
    next_cursor: NextCursor
    as_of: date = Field(description="The ledger's date (UTC) days past due count from.")


class EntryOut(BaseModel):
    at_utc: datetime
    at_local: datetime = Field(description="The same instant in the consumer's zone.")
    kind: str = Field(
        description="account, decision, delivery, signal, payment, reversal, credit, plan, "
        "installment, promise, settlement, note, task"
    )
    summary: str
    by: str | None = Field(
        description="The API key's principal, the service that sent the event, or `ledger` "
        "for what the ledger concluded itself (an installment missed, a plan completed)."
    )
    step_id: str | None
    subject: str | None = Field(default=None, description="An e-mail step's subject.")
    text: str | None = Field(
        default=None,
        description="The words, whole: a decision's message body (what was sent when "
        "allowed), a reply's text, a note.",
    )
    details: dict[str, Any]


class TimelineOut(BaseModel):
    account_id: str
    full_name: str
    state: str
    zone: str = Field(description="The IANA zone of `at_local`.")
    zone_basis: str
    message_bodies: str = Field(description="What the timeline shows of each message.")
    entries: list[EntryOut]

    @classmethod
    def of(cls, t: Timeline) -> TimelineOut:
        c = t.account.consumer
        return cls(
            account_id=t.account.account_id,
            full_name=str(c.get("full_name", "")),
            state=str(c.get("state", "")),
            zone=t.zone.name,
            zone_basis=t.zone.basis,
            message_bodies=MESSAGE_BODIES,
            entries=[
                EntryOut(
                    at_utc=e.at,
                    at_local=e.local(t.zone),
                    kind=e.kind,
                    summary=e.summary,
                    by=e.by,
                    step_id=e.step_id,
                    subject=e.subject,
                    text=e.text,
                    details=e.details,
                )
                for e in t.entries
            ],
        )


class PhoneIn(Body):
    number: str = Field(min_length=3, max_length=40, description="Any notation, US by default.")
    kind: Literal["mobile", "home", "work", "other"] = "mobile"
    consent: PhoneConsent = PhoneConsent.CREDITOR_PROVIDED
    basis: AddressBasis = AddressBasis.CONSUMER_USED
    basis_on: date | None = None
    consent_source: PlainText | None = Field(default=None, min_length=1, max_length=200)
    consent_at: Instant | None = None

    @model_validator(mode="after")
    def _documented(self) -> PhoneIn:
        if (self.consent_source is None) != (self.consent_at is None):
            raise ValueError("consent_source and consent_at go together: give both or neither")
        if self.consent is PhoneConsent.EXPRESS_WRITTEN and self.consent_source is None:
            raise ValueError("express_written consent needs its consent_source and consent_at")
        return self


class EmailIn(EmailContact):
    # The contract's address, as a body: unknown fields are refused (no docstring: the
    # OpenAPI document shows none).
    model_config = ConfigDict(extra="forbid")


class FlagsIn(Body):
    nyc_electronic_consent: bool | None = None
    medical: bool | None = None
    legal_action_authorized: bool | None = None


class AccountPatch(Body):
    """What to change; what is left out stays. `phones`/`emails` replace the whole list."""

    phones: list[PhoneIn] | None = Field(default=None, max_length=10)
    emails: list[EmailIn] | None = Field(default=None, max_length=10)
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}_[A-Z]{2}$", examples=["es_US"])
    flags: FlagsIn | None = None

    @model_validator(mode="after")
    def _something(self) -> AccountPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give phones, emails, locale or flags")
        return self


class ChangeOut(Record):
    account_id: str
    revision: int
    changed: list[str] = Field(description="What changed; empty when nothing did.")
    recorded_by: str | None
    consumer: dict[str, Any]
    debt: dict[str, Any]


class PauseIn(Body):
    pause_id: Identifier = Field(description="Idempotency key chosen by the client.")
    reason: PlainText = Field(min_length=1, max_length=500, description="Why, for the timeline.")
    until: Instant | None = Field(
        default=None, description="When the pause ends by itself; unset: until resumed."
    )


class ResumeIn(Body):
    resume_id: Identifier = Field(description="Idempotency key chosen by the client.")
    reason: PlainText | None = Field(default=None, max_length=500)


class NoteIn(Body):
    text: PlainText = Field(min_length=1, max_length=4000)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    note_id: str
    account_id: str
    text: str
    created_at: datetime
    recorded_by: str | None


class NotesOut(BaseModel):
    account_id: str
    notes: list[NoteOut]
