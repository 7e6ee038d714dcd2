"""The ledger's payment terms: what a plan, a promise, a settlement may be (pure).

Read from YAML by ``dunning_ledger.terms`` (the packaged ``terms.yaml`` unless
``DUNNING_LEDGER_TERMS_FILE`` names another). Amounts are minor units of the account's
currency; days are calendar days in the consumer's zone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Frequency = Literal["weekly", "biweekly", "monthly"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettlementTerms(_Strict):
    floor_percent: int = Field(
        ge=1, le=100, description="The smallest settlement, in percent of the balance."
    )
    pay_by_days: int = Field(ge=0, le=366, description="Days from agreement to pay it.")


class EarlyDiscount(_Strict):
    percent: int = Field(ge=1, le=99, description="Off the balance when paid in full early.")
    within_days: int = Field(ge=1, le=366, description="Days from the account's placement.")


class PaymentTerms(_Strict):
    """The limits every offer and every agreement is checked against."""

    version: Literal[1] = 1
    frequencies: tuple[Frequency, ...] = Field(min_length=1)
    longest_term_days: int = Field(
        ge=1, le=3660, description="From the agreement to the last installment's due date."
    )
    smallest_installment_minor: int = Field(ge=1)
    grace_days: int = Field(ge=0, le=90, description="An installment is missed after these.")
    missed_to_break: int = Field(ge=1, le=24, description="Missed installments break a plan.")
    settlement: SettlementTerms | None = None
    early_discount: EarlyDiscount | None = None
    promise_longest_days: int = Field(ge=0, le=366)
    smallest_part_payment_minor: int = Field(ge=1)

    @model_validator(mode="after")
    def _distinct_frequencies(self) -> PaymentTerms:
        if len(set(self.frequencies)) != len(self.frequencies):
            raise ValueError("frequencies: each frequency once")
        return self
