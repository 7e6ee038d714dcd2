"""The plan bodies of the HTTP API: a plan from an offer or from its terms (or the first
API's body), and a plan with its schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from dunning_ledger.domain.money import MAX_MINOR
from dunning_ledger.domain.terms import Frequency
from dunning_ledger.payments.schemas import (
    SOURCE_DOC,
    Amount,
    Body,
    DecimalText,
    Identifier,
    Source,
)
from dunning_ledger.payments.state import installment_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dunning_ledger.models import PaymentPlan, PlanInstallment

Minor = Field(default=None, ge=1, le=MAX_MINOR)


class PlanIn(Body):
    """``{"plan_id", "offer_id"}``, or ``{"plan_id", "frequency", "first_due", "count" |
    "installment_minor", "total_minor"?}`` (total defaults to the balance), or the first
    API's ``{"plan_id", "instalment", "instalments", "first_due"}`` (monthly)."""

    plan_id: Identifier = Field(description="Idempotency key.")
    offer_id: Identifier | None = Field(default=None, description="One of GET .../offers.")
    frequency: Frequency | None = None
    first_due: date | None = None
    count: int | None = Field(default=None, ge=1, le=600)
    installment_minor: int | None = Minor
    total_minor: int | None = Field(
        default=None, ge=1, le=MAX_MINOR, description="Defaults to the balance."
    )
    source: Source = Field(default="api", description=SOURCE_DOC)
    instalment: DecimalText | None = Field(default=None, description="First API: major units.")
    instalments: int | None = Field(default=None, ge=1, le=600, description="First API.")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    debt_id: Identifier | None = None


class InstallmentOut(BaseModel):
    seq: int
    due_on: date
    amount_minor: int
    paid_minor: int
    status: str = Field(description="due, paid, partly_paid or missed")


class PlanOut(BaseModel):
    plan_id: str
    account_id: str
    debt_id: str
    instalment: Amount
    instalments: int
    first_due: date
    agreed_at: datetime
    recorded_by: str | None = Field(description="The principal of the API key that entered it.")
    replayed: bool = False
    status: str = Field(default="active", description="active, broken or completed")
    frequency: str = "monthly"
    total: Amount | None = None
    source: str | None = None
    installments: list[InstallmentOut] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        p: PaymentPlan,
        replayed: bool = False,
        installments: Sequence[PlanInstallment] = (),
    ) -> PlanOut:
        return cls(
            plan_id=p.plan_id,
            account_id=p.account_id,
            debt_id=p.debt_id,
            instalment=Amount.of(p.instalment_minor, p.currency),
            instalments=p.instalments,
            first_due=p.first_due,
            agreed_at=p.agreed_at,
            recorded_by=p.recorded_by,
            replayed=replayed,
            status=p.status,
            frequency=p.frequency,
            total=None if p.total_minor is None else Amount.of(p.total_minor, p.currency),
            source=p.source,
            installments=[installment_out(i) for i in installments],
        )


def installment_out(i: PlanInstallment) -> InstallmentOut:
    """Its fields and its status as the life cycle's installment has them."""
    return InstallmentOut.model_validate(installment_of(i), from_attributes=True)
