"""What the page shows and decides, without I/O: the ledger's money and offers as typed
values, the choices they allow, the keys that make every action idempotent and the form
check bound to the link.

Idempotency: an action's key is an HMAC of the link token, the action and its parameters, so a
double submit of one form is one record in the ledger, whatever the browser does; a different
choice (another amount, another offer) is another record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LANGUAGES = ("en", "es", "zh")


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Itemization(_Read):
    itemization_date: date
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


class Action(StrEnum):
    PAY = "pay"  # in full, part, an installment, a settlement, the early-payment discount
    PLAN = "plan"
    PROMISE = "promise"
    SETTLE = "settle"
    DISPUTE = "dispute"
    OPT_OUT = "opt_out"
    CALL_BACK = "call_back"


PayKind = Literal["full", "part", "installment", "settlement", "discount"]


def language(locale: str | None) -> str:
    """The page's language for an account locale (``es_US`` -> ``es``); English otherwise."""
    lang = (locale or "").replace("-", "_").split("_")[0].lower()
    return lang if lang in LANGUAGES else "en"


def _mac(key: str, *parts: str) -> bytes:
    return hmac.new(key.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()


def form_token(key: str, link_token: str) -> str:
    """The check every form of one link carries (a POST without it is refused)."""
    return base64.urlsafe_b64encode(_mac(key, "csrf", link_token)[:18]).decode()


def form_token_ok(key: str, link_token: str, given: str) -> bool:
    return hmac.compare_digest(form_token(key, link_token), given)


def action_key(key: str, link_token: str, action: Action, *params: str) -> str:
    """The idempotency key of one action from one link: ``pg-<action>-<26 base32>``, a valid
    ledger id (letters, digits, ``.``, ``_``, ``:``, ``-``; at most 64)."""
    digest = base64.b32encode(_mac(key, "action", link_token, action.value, *params)[:16])
    return f"pg-{action.value.replace('_', '-')}-{digest.decode().rstrip('=').lower()}"


def card_payment_id(processor_id: str) -> str:
    """The ledger's payment id of a card payment: the processor's charge id in it, so the
    webhook that disputes the charge later names the payment to reverse."""
    return f"card-{re.sub(r'[^A-Za-z0-9._:-]', '-', processor_id)}"[:64]


_AMOUNT = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$")


def parse_amount(text: str) -> int | None:
    """Minor units of a decimal amount typed by the consumer (``12``, ``12.5``, ``12,50``)."""
    match = _AMOUNT.match(text)
    if match is None:
        return None
    cents = (match.group(2) or "").ljust(2, "0")
    return int(match.group(1)) * 100 + int(cents)


@dataclass(frozen=True)
class Due:
    """What a payment of one kind charges, or why it cannot be made now."""

    amount_minor: int | None
    problem: str | None = None


def amount_due(kind: PayKind, money: Money, offers: Offers, typed: str | None) -> Due:
    """The amount of a payment of ``kind`` given the account's money and offers today."""
    if money.balance_minor <= 0:
        return Due(None, "nothing_owed")
    if kind == "full":
        return Due(money.balance_minor)
    if kind == "discount":
        offer = offers.early_discount
        return Due(offer.amount_minor) if offer else Due(None, "no_offer")
    if kind == "settlement":
        settlement = money.open_settlement()
        return Due(settlement.amount_minor) if settlement else Due(None, "no_offer")
    if kind == "installment":
        plan = money.active_plan()
        nxt = plan.next_installment() if plan else None
        return Due(nxt.owed_minor) if nxt else Due(None, "no_plan")
    amount = parse_amount(typed or "")
    if amount is None:
        return Due(None, "bad_amount")
    if amount < offers.min_part_payment_minor or amount > money.balance_minor:
        return Due(None, "amount_out_of_range")
    return Due(amount)


def card_expiry(text: str) -> tuple[int, int] | None:
    """(month, four-digit year) of ``MM/YY`` or ``MM/YYYY``."""
    match = re.match(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$", text)
    if match is None:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    return month, year + 2000 if year < 100 else year


def card_number(text: str) -> str | None:
    """The digits of a card number with a valid Luhn check digit."""
    digits = re.sub(r"[\s-]", "", text)
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return None
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return digits if total % 10 == 0 else None
