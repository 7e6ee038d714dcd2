"""The payment and plan bodies of the HTTP API, and the money amounts every body shows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from dunning_core.contracts.common import Instant
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from dunning_ledger.domain.money import format_minor
from dunning_ledger.domain.payments import PaymentMethod

if TYPE_CHECKING:
    from dunning_ledger.models import Payment, PaymentReversal


def _decimal_text(value: Any) -> Any:
    # JSON numbers are accepted too, read through their text (never as binary floats).
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


DecimalText = Annotated[
    str,
    BeforeValidator(_decimal_text),
    Field(pattern=r"^\s*\d+(\.\d+)?\s*$", examples=["1234.50"]),
]
Source = Literal["api", "page", "processor", "operator"]
"""Who entered a change: recorded, and put on its event."""
SOURCE_DOC = "Who entered it: api (default), page, processor or operator."
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
PlainText = Annotated[
    str,
    Field(
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
        description="Text without control characters (line breaks and tabs are kept).",
    ),
]
NextCursor = Annotated[
    str | None, Field(description="Pass as `cursor` for the next page; null on the last page.")
]
"""A page's way on to the next: every paged answer has it."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Record(BaseModel):
    """A body read from the attributes of a stored row or an event of the same field names."""

    model_config = ConfigDict(from_attributes=True)


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


class PaymentIn(Body):
    payment_id: Identifier = Field(description="Idempotency key: the same id is one payment.")
    amount: DecimalText = Field(description="Decimal amount in major units, e.g. 120.50")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Defaults to the account's currency."
    )
    debt_id: Identifier | None = None
    method: PaymentMethod = "other"
    received_at: Instant | None = Field(default=None, description="Defaults to now.")
    source: Source = Field(default="api", description=SOURCE_DOC)


class PaymentOut(BaseModel):
    payment_id: str
    account_id: str
    debt_id: str
    amount: Amount
    remaining_balance: Amount
    method: str
    received_at: datetime
    recorded_by: str | None = Field(description="The principal of the API key that entered it.")
    replayed: bool = Field(description="True when this payment_id was already recorded.")
    source: str | None = None
    credit: Amount | None = Field(default=None, description="The part beyond the balance.")
    plan_id: str | None = Field(default=None, description="The plan whose installments it paid.")
    installments: list[int] = Field(default_factory=list, description="Their numbers (seq).")

    @classmethod
    def of(cls, p: Payment, replayed: bool) -> PaymentOut:
        allocation = p.allocation or {}
        credit = int(allocation.get("credit") or 0)
        return cls(
            payment_id=p.payment_id,
            account_id=p.account_id,
            debt_id=p.debt_id,
            amount=Amount.of(p.amount_minor, p.currency),
            remaining_balance=Amount.of(p.remaining_balance_minor, p.currency),
            method=p.method,
            received_at=p.received_at,
            recorded_by=p.recorded_by,
            replayed=replayed,
            source=p.source,
            credit=Amount.of(credit, p.currency) if credit else None,
            plan_id=allocation.get("plan_id"),
            installments=[seq for seq, _ in allocation.get("installments") or []],
        )


class ReversalIn(Body):
    reason: Literal["chargeback", "nsf", "processor_failure", "error", "other"]
    reversed_at: Instant | None = Field(default=None, description="Defaults to now.")
    source: Source = Field(default="api", description=SOURCE_DOC)


class ReversalOut(BaseModel):
    payment_id: str
    account_id: str
    reason: str
    amount: Amount
    remaining_balance: Amount
    reversed_at: datetime
    source: str | None
    recorded_by: str | None
    replayed: bool = False

    @classmethod
    def of(cls, r: PaymentReversal, p: Payment, balance_minor: int, replayed: bool) -> ReversalOut:
        return cls(
            payment_id=r.payment_id,
            account_id=r.account_id,
            reason=r.reason,
            amount=Amount.of(p.amount_minor, p.currency),
            remaining_balance=Amount.of(balance_minor, p.currency),
            reversed_at=r.reversed_at,
            source=r.source,
            recorded_by=r.recorded_by,
            replayed=replayed,
        )
