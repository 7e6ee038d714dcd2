"""The promise and settlement bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from dunning_ledger.domain.money import MAX_MINOR
from dunning_ledger.payments.schemas import SOURCE_DOC, Body, Identifier, Source

if TYPE_CHECKING:
    from dunning_ledger.models import Promise, Settlement


class PromiseIn(Body):
    promise_id: Identifier = Field(description="Idempotency key.")
    amount_minor: int = Field(ge=1, le=MAX_MINOR)
    due_on: date = Field(description="In the consumer's zone; within the terms' longest days.")
    source: Source = Field(default="api", description=SOURCE_DOC)


class PromiseOut(BaseModel):
    promise_id: str
    account_id: str
    amount_minor: int
    currency: str
    due_on: date
    paid_minor: int
    status: str = Field(description="open, kept or broken")
    made_at: datetime
    source: str | None
    recorded_by: str | None
    replayed: bool = False

    @classmethod
    def of(cls, p: Promise, replayed: bool = False) -> PromiseOut:
        return cls(
            promise_id=p.promise_id, account_id=p.account_id, amount_minor=p.amount_minor,
            currency=p.currency, due_on=p.due_on, paid_minor=p.paid_minor, status=p.status,
            made_at=p.made_at, source=p.source, recorded_by=p.recorded_by, replayed=replayed,
        )  # fmt: skip


class SettlementIn(Body):
    """``{"settlement_id", "offer_id"}`` (``settlement`` or ``early_discount`` of GET
    .../offers) or ``{"settlement_id", "amount_minor", "pay_by"}``."""

    settlement_id: Identifier = Field(description="Idempotency key.")
    offer_id: Identifier | None = None
    amount_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    pay_by: date | None = None
    source: Source = Field(default="api", description=SOURCE_DOC)


class SettlementOut(BaseModel):
    settlement_id: str
    account_id: str
    amount_minor: int
    currency: str
    balance_minor: int = Field(description="The balance when it was agreed.")
    pay_by: date
    paid_minor: int
    status: str = Field(description="open, paid or lapsed")
    offer_id: str | None
    agreed_at: datetime
    source: str | None
    recorded_by: str | None
    replayed: bool = False

    @classmethod
    def of(cls, s: Settlement, replayed: bool = False) -> SettlementOut:
        return cls(
            settlement_id=s.settlement_id, account_id=s.account_id, amount_minor=s.amount_minor,
            currency=s.currency, balance_minor=s.balance_minor, pay_by=s.pay_by,
            paid_minor=s.paid_minor, status=s.status, offer_id=s.offer_id,
            agreed_at=s.agreed_at, source=s.source, recorded_by=s.recorded_by,
            replayed=replayed,
        )  # fmt: skip
