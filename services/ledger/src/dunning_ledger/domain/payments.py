"""Checking a payment or a plan against the account it is for (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from dunning_ledger.errors import InvalidRequest

PaymentMethod = Literal["card", "ach", "check", "cash", "other"]
"""How a payment was made: the one list (``PaymentReceived.method`` carries the same)."""


@dataclass(frozen=True, slots=True)
class AccountTerms:
    """The part of an account a payment is checked against."""

    account_id: str
    debt_id: str
    currency: str
    balance_minor: int


@dataclass(frozen=True, slots=True)
class PaymentInput:
    payment_id: str
    debt_id: str | None
    amount_minor: int
    currency: str
    method: PaymentMethod
    received_at: datetime


@dataclass(frozen=True, slots=True)
class PlanInput:
    plan_id: str
    debt_id: str | None
    instalment_minor: int
    currency: str
    instalments: int
    first_due: date


def check_debt(terms: AccountTerms, debt_id: str | None, currency: str) -> str:
    """The debt the request is about; the account's own when not named."""
    if debt_id is not None and debt_id != terms.debt_id:
        raise InvalidRequest(f"debt {debt_id!r} is not the debt of account {terms.account_id!r}")
    if currency != terms.currency:
        raise InvalidRequest(f"currency {currency} differs from the account's {terms.currency}")
    return terms.debt_id


def remaining_after(terms: AccountTerms, payment: PaymentInput) -> int:
    """The balance left once the payment is applied; refuses what cannot be applied."""
    check_debt(terms, payment.debt_id, payment.currency)
    if payment.amount_minor <= 0:
        raise InvalidRequest("a payment amount must be more than zero")
    if payment.amount_minor > terms.balance_minor:
        raise InvalidRequest(
            f"payment of {payment.amount_minor} minor units exceeds the balance of "
            f"{terms.balance_minor}"
        )
    return terms.balance_minor - payment.amount_minor


def check_plan(terms: AccountTerms, plan: PlanInput) -> str:
    debt_id = check_debt(terms, plan.debt_id, plan.currency)
    if plan.instalment_minor <= 0:
        raise InvalidRequest("an instalment must be more than zero")
    if plan.instalments < 1:
        raise InvalidRequest("a plan needs at least one instalment")
    return debt_id
