"""The promise and settlement bodies of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Self

from pydantic import Field

from dunning_ledger.domain.money import MAX_MINOR
from dunning_ledger.payments.schemas import SOURCE_DOC, Body, Identifier, Record, Source

if TYPE_CHECKING:
    from dunning_ledger.models import Promise, Settlement


class _Answer(Record):
    """A write's answer: the stored row, and whether the write was a replay of it."""

    @classmethod
    def of(cls, row: Promise | Settlement, replayed: bool = False) -> Self:
        return cls.model_validate(row).model_copy(update={"replayed": replayed})


class PromiseIn(Body):
    promise_id: Identifier = Field(description="Idempotency key.")
    amount_minor: int = Field(ge=1, le=MAX_MINOR)
    due_on: date = Field(description="In the consumer's zone; within the terms' longest days.")
    source: Source = Field(default="api", description=SOURCE_DOC)


class PromiseOut(_Answer):
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


class SettlementIn(Body):
    """``{"settlement_id", "offer_id"}`` (``settlement`` or ``early_discount`` of GET
    .../offers) or ``{"settlement_id", "amount_minor", "pay_by"}``."""

    settlement_id: Identifier = Field(description="Idempotency key.")
    offer_id: Identifier | None = None
    amount_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR)
    pay_by: date | None = None
    source: Source = Field(default="api", description=SOURCE_DOC)


class SettlementOut(_Answer):
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
