"""What the consumer may do from a link, and the checks and keys that go with it.

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
from enum import StrEnum
from typing import Literal

from dunning_portal.domain.money import Money, Offers

LANGUAGES = ("en", "es", "zh")


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
    """The idempotency key of one action from one link: ``pg-<action>-<24 base32>``, a valid
    ledger id (letters, digits, ``.``, ``_``, ``:``, ``-``; at most 64)."""
    digest = base64.b32encode(_mac(key, "action", link_token, action.value, *params)[:15])
    return f"pg-{action.value.replace('_', '-')}-{digest.decode().lower()}"


def card_payment_id(pay_key: str, processor_id: str) -> str:
    """The ledger's payment id of a card payment: the page's key of the payment (so a second
    submit finds it recorded) and the processor's charge id (so its dispute names it)."""
    charge = re.sub(r"[^A-Za-z0-9._-]", "-", processor_id)
    return f"{pay_key}:{charge}"[:64]


def recorded_payment(money: Money, pay_key: str) -> bool:
    return any(p.payment_id.startswith(f"{pay_key}:") for p in money.payments)


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


def shown_amount(kind: str, form_amount: str | None, form_minor: str | None) -> int | None:
    """The amount the consumer agreed to on the form: typed for a part payment, else the
    one the page showed (its hidden ``amount_minor``)."""
    if kind == "part":
        return parse_amount(form_amount or "")
    return int(form_minor) if form_minor and form_minor.isdigit() else None


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
