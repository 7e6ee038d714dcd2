"""Checking a payment, a plan or a debt reference against the account it is for (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from dunning_ledger.errors import InvalidRequest

PaymentMethod = Literal["card", "ach", "check", "cash", "other"]
"""How a payment was made: the one list (``PaymentReceived.method`` carries the same)."""

CLOCK_SKEW: Final = timedelta(minutes=5)  # a received_at this far ahead is still "now"
PLAN_HORIZON: Final = timedelta(days=366)  # a plan's first instalment falls within a year
PLAN_GRACE: Final = timedelta(days=31)  # ... or up to a month back, for a plan entered late


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


def check_debt_id(terms: AccountTerms, debt_id: str | None) -> str:
    """The debt a request is about: the account's own when not named, never another's."""
    if debt_id is not None and debt_id != terms.debt_id:
        raise InvalidRequest(
            f"debt {debt_id!r} is not the debt of account {terms.account_id!r}", "debt_id"
        )
    return terms.debt_id


def check_debt(terms: AccountTerms, debt_id: str | None, currency: str) -> str:
    """The debt the request is about; the account's own when not named."""
    check_debt_id(terms, debt_id)
    if currency != terms.currency:
        raise InvalidRequest(
            f"currency {currency} differs from the account's {terms.currency}", "currency"
        )
    return terms.debt_id


def remaining_after(terms: AccountTerms, payment: PaymentInput, now: datetime) -> int:
    """The balance left once the payment is applied (what goes beyond is a credit, not
    refused); refuses what cannot be applied."""
    check_debt(terms, payment.debt_id, payment.currency)
    if payment.amount_minor <= 0:
        raise InvalidRequest("a payment amount must be more than zero", "amount")
    if payment.received_at > now + CLOCK_SKEW:
        raise InvalidRequest(
            f"received_at {payment.received_at.isoformat()} is in the future "
            f"(the ledger's time is {now.isoformat()})",
            "received_at",
        )
    return max(0, terms.balance_minor - payment.amount_minor)


def check_plan(terms: AccountTerms, plan: PlanInput, today: date) -> str:
    debt_id = check_debt(terms, plan.debt_id, plan.currency)
    if plan.instalment_minor <= 0:
        raise InvalidRequest("an instalment must be more than zero", "instalment")
    if plan.instalments < 1:
        raise InvalidRequest("a plan needs at least one instalment", "instalments")
    if terms.balance_minor <= 0:
        raise InvalidRequest(
            f"account {terms.account_id!r} has no balance left to plan", "instalment"
        )
    # Every instalment must pay something: the last may be partial, none may fall beyond.
    if (plan.instalments - 1) * plan.instalment_minor >= terms.balance_minor:
        raise InvalidRequest(
            f"{plan.instalments} instalments of {plan.instalment_minor} minor units exceed "
            f"the balance of {terms.balance_minor}; the last instalments would pay nothing",
            "instalments",
        )
    check_first_due(plan.first_due, today)
    return debt_id


def check_first_due(first_due: date, today: date) -> None:
    if first_due < today - PLAN_GRACE:
        raise InvalidRequest(
            f"first_due {first_due.isoformat()} is more than a month in the past "
            f"(today is {today.isoformat()})",
            "first_due",
        )
    if first_due > today + PLAN_HORIZON:
        raise InvalidRequest(
            f"first_due {first_due.isoformat()} is more than a year ahead", "first_due"
        )
