"""The ledger's money and offers as the page reads them (money-api.md), typed; unknown fields
are ignored so the ledger may add some."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Itemization(_Read):
    itemization_date: date
    basis: str | None = None  # which reference date: last_statement, charge_off, ...
    amount_on_itemization_date_minor: int
    interest_minor: int = 0
    fees_minor: int = 0
    payments_minor: int = 0
    credits_minor: int = 0


class Installment(_Read):
    seq: int
    due_on: date
    amount_minor: int
    paid_minor: int = 0
    status: str = "due"

    @property
    def owed_minor(self) -> int:
        return max(0, self.amount_minor - self.paid_minor)


class Plan(_Read):
    plan_id: str
    status: str
    frequency: str
    total_minor: int
    installments: list[Installment] = Field(default_factory=list)

    def next_installment(self) -> Installment | None:
        return next((i for i in self.installments if i.owed_minor > 0), None)


class Promise(_Read):
    promise_id: str
    amount_minor: int
    due_on: date
    status: str


class Settlement(_Read):
    settlement_id: str
    amount_minor: int
    pay_by: date
    status: str


class Payment(_Read):
    payment_id: str
    amount_minor: int
    reversed: bool = False


class Money(_Read):
    account_id: str
    debt_id: str | None = None
    currency: str
    balance_minor: int
    status: str = "open"
    credit_minor: int = 0
    itemization: Itemization | None = None
    plans: list[Plan] = Field(default_factory=list)
    promises: list[Promise] = Field(default_factory=list)
    settlements: list[Settlement] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)

    def active_plan(self) -> Plan | None:
        return next((p for p in self.plans if p.status == "active"), None)

    def open_settlement(self) -> Settlement | None:
        return next((s for s in self.settlements if s.status == "open"), None)


class PlanOffer(_Read):
    offer_id: str
    frequency: str
    count: int
    installment_minor: int
    first_due: date
    total_minor: int


class SettlementOffer(_Read):
    offer_id: str
    amount_minor: int
    pay_by: date


class EarlyDiscount(_Read):
    amount_minor: int
    pay_by: date


class Offers(_Read):
    balance_minor: int
    currency: str
    plan_offers: list[PlanOffer] = Field(default_factory=list)
    settlement: SettlementOffer | None = None
    early_discount: EarlyDiscount | None = None
    min_part_payment_minor: int = 1


class AccountInfo(_Read):
    """What the page names: the creditor, who collects, the consumer's language."""

    account_id: str
    creditor: str
    third_party: bool
    locale: str
    phones: int = 0
    emails: int = 0
