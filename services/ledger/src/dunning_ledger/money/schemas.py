"""The bodies of GET .../money and GET .../offers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from dunning_ledger.payments.schemas import Record
from dunning_ledger.plans.schemas import InstallmentOut


class Itemization(BaseModel):
    """Regulation F: the debt on the itemization date, and what changed it since."""

    itemization_date: date
    basis: str | None = Field(
        default=None,
        description="Which reference date the itemization date is (last_statement, "
        "charge_off, last_payment, transaction, judgment); null: the creditor gave no "
        "itemization and it runs from the charge-off or due date, interest and fees 0.",
    )
    amount_on_itemization_date_minor: int
    interest_minor: int
    fees_minor: int
    payments_minor: int
    credits_minor: int


class MoneyPlan(BaseModel):
    plan_id: str
    status: str = Field(description="active, broken or completed")
    frequency: str
    total_minor: int
    installments: list[InstallmentOut]


class MoneyPromise(Record):
    promise_id: str
    amount_minor: int
    due_on: date
    status: str = Field(description="open, kept or broken")


class MoneySettlement(Record):
    settlement_id: str
    amount_minor: int
    pay_by: date
    status: str = Field(description="open, paid or lapsed")


class MoneyPayment(BaseModel):
    payment_id: str
    amount_minor: int
    received_at: datetime
    method: str
    source: str | None
    reversed: bool


class MoneyOut(BaseModel):
    account_id: str
    debt_id: str
    currency: str
    balance_minor: int
    status: str = Field(description="open, or settled when nothing more is owed")
    credit_minor: int
    itemization: Itemization
    plans: list[MoneyPlan]
    promises: list[MoneyPromise]
    settlements: list[MoneySettlement]
    payments: list[MoneyPayment]


class PlanOfferOut(Record):
    offer_id: str
    frequency: str
    count: int
    installment_minor: int
    first_due: date
    total_minor: int


class SettlementOfferOut(Record):
    offer_id: str
    amount_minor: int
    pay_by: date


class DiscountOut(Record):
    offer_id: str = "early_discount"
    amount_minor: int
    pay_by: date


class OffersOut(BaseModel):
    balance_minor: int
    currency: str
    plan_offers: list[PlanOfferOut]
    settlement: SettlementOfferOut | None
    early_discount: DiscountOut | None
    min_part_payment_minor: int
