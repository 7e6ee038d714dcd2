"""What the sandboxed Stripe PaymentIntents API accepts, refuses and decides; no I/O.

Requests are form-encoded with Stripe's nested keys (`metadata[plan]`,
`payment_method_data[card][number]`, `payment_method_types[0]`); `parse_form` turns them
into nested dicts. Validation errors are `invalid_request_error` (400) and are answered
before anything is created; a card that is not even well formed is a `card_error` (402)
with no PaymentIntent either. The card number then decides, as Stripe's test cards do:

| number | outcome |
|---|---|
| 4242424242424242 (and any other valid number) | succeeded |
| 4000000000000002 | declined: card_declined / generic_decline |
| 4000000000009995 | declined: card_declined / insufficient_funds |
| 4000000000000069 | declined: expired_card |
| 4000000000000127 | declined: incorrect_cvc |
| 4000000000000119 | declined: processing_error |
| 4000000000000259 | succeeded, then disputed (charge.dispute.created, reason fraudulent) |
| 4000000000007700 | processing, then succeeded (payment_intent.succeeded) |
| 4000000000007718 | processing, then failed: insufficient_funds (payment_intent.payment_failed) |
| 4000002500003155 | requires_action (3D Secure) |
| 4242424242424241 (fails Luhn) | card_error incorrect_number, nothing created |

An expiry month outside 1-12 is `invalid_expiry_month`, a past expiry
`invalid_expiry_year`, a CVC that is not 3 or 4 digits `invalid_cvc` (card_error, 402).
A declined card still creates the PaymentIntent (status `requires_payment_method`, the
error as its `last_payment_error`), as on Stripe. The two delayed cards answer `processing`
(as Stripe does for methods that settle later: bank debits, some wallets); the outcome comes
`stripe_processing_delay_ms` later, as a signed event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

API_VERSION = "2026-10-28.endive"
DOCS = "https://stripe.com/docs/error-codes"

# Form values nest: a[b][c] → {"a": {"b": {"c": v}}}; all-digit keys make a list.
Form = dict[str, Any]

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
_CURRENCY = re.compile(r"^[a-z]{3}$")
_DIGITS = re.compile(r"^\d{12,19}$")
_CVC = re.compile(r"^\d{3,4}$")
# Smallest amounts Stripe charges, in minor units (others: 50).
_MINIMUM_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "mxn": 1000, "jpy": 50}
_ZERO_DECIMAL = frozenset({"jpy", "krw", "vnd", "clp", "pyg", "xaf", "xof", "ugx"})

DISPUTE_CARD = "4000000000000259"
PROCESSING_SUCCEEDS_CARD = "4000000000007700"
PROCESSING_FAILS_CARD = "4000000000007718"


@dataclass(frozen=True, slots=True)
class StripeError:
    """An error answer in Stripe's shape: `{"error": {"type", "code", "message", ...}}`."""

    http_status: int
    type: str
    message: str
    code: str | None = None
    decline_code: str | None = None
    param: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            body["code"] = self.code
            body["doc_url"] = f"{DOCS}/{self.code.replace('_', '-')}"
        if self.decline_code is not None:
            body["decline_code"] = self.decline_code
        if self.param is not None:
            body["param"] = self.param
        return body


@dataclass(frozen=True, slots=True)
class Card:
    """A well-formed card; only the last four digits are ever kept past the request."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str | None
    postal_code: str | None

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        first = self.number[0]
        if self.number[:2] in ("34", "37"):
            return "amex"
        return {"4": "visa", "5": "mastercard", "6": "discover", "3": "jcb"}.get(first, "unknown")


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A valid `POST /v1/payment_intents`."""

    amount: int
    currency: str
    confirm: bool
    card: Card | None
    description: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What confirming a card does: a status, the decline when there is one, a dispute;
    for a `processing` payment, how it ends later (`then`: another outcome)."""

    status: str  # succeeded | requires_payment_method | requires_action | processing
    decline: StripeError | None = None
    disputed: bool = False
    then: Outcome | None = None


def parse_form(pairs: Iterable[tuple[str, str]]) -> Form:
    """Nest Stripe's bracketed form keys; lists come as `key[0]`, `key[1]`…"""
    root: Form = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Form) -> Form:
    for key, value in node.items():
        if isinstance(value, dict):
            nested = _lists(value)
            if nested and all(k.isdigit() for k in nested):
                node[key] = [nested[k] for k in sorted(nested, key=int)]
            else:
                node[key] = nested
    return node


def missing(param: str) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        "parameter_missing",
        None,
        param,
    )


def invalid(param: str, message: str, code: str = "parameter_invalid_string") -> StripeError:
    return StripeError(400, "invalid_request_error", message, code, None, param)


def card_error(code: str, message: str, param: str | None = None) -> StripeError:
    return StripeError(402, "card_error", message, code, None, param)


def _integer(form: Form, name: str) -> int | StripeError:
    raw = form.get(name)
    if raw is None or raw == "":
        return missing(name)
    if not isinstance(raw, str) or not raw.lstrip("-").isdigit():
        return invalid(name, f"Invalid integer: {raw}", "parameter_invalid_integer")
    return int(raw)


def parse_payment_request(form: Form, now: datetime | None = None) -> PaymentRequest | StripeError:
    """The request, or the first error Stripe would answer it with."""
    amount = _integer(form, "amount")
    if isinstance(amount, StripeError):
        return amount
    currency = form.get("currency")
    if not currency:
        return missing("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency.lower()):
        return invalid("currency", f"Invalid currency: {currency}.", "parameter_invalid_string")
    currency = currency.lower()
    if amount < 1:
        return invalid(
            "amount", "This value must be greater than or equal to 1.", "parameter_invalid_integer"
        )
    if amount < _MINIMUM_AMOUNT.get(currency, 50) and currency not in _ZERO_DECIMAL:
        return invalid(
            "amount", "Amount must be at least the minimum charge amount.", "amount_too_small"
        )
    metadata = form.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        return invalid("metadata", "Invalid metadata: must be a hash of strings.")
    if len(metadata) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in metadata.items()):
        return invalid(
            "metadata", "Metadata: at most 50 keys, 40-character keys, 500-character values."
        )
    description = form.get("description")
    if description is not None and not isinstance(description, str):
        return invalid("description", "Invalid string: description.")
    card = card_of(form.get("payment_method_data"), now)
    if isinstance(card, StripeError):
        return card
    confirm = form.get("confirm", "false") == "true"
    if confirm and card is None:
        return missing("payment_method_data")
    return PaymentRequest(amount, currency, confirm, card, description or None, dict(metadata))


def card_of(data: object, now: datetime | None = None) -> Card | StripeError | None:
    """The card of `payment_method_data` (None when there is none), or why it is refused."""
    now = now or datetime.now(UTC)
    if data is None:
        return None
    if not isinstance(data, dict):
        return invalid("payment_method_data", "Invalid hash: payment_method_data.")
    if data.get("type") != "card":
        return invalid(
            "payment_method_data[type]",
            "The only payment method type is card.",
            "parameter_invalid_string",
        )
    raw = data.get("card")
    if not isinstance(raw, dict):
        return missing("payment_method_data[card]")
    for name in ("number", "exp_month", "exp_year"):
        if not raw.get(name):
            return missing(f"payment_method_data[card][{name}]")
    number = str(raw["number"]).replace(" ", "")
    if not _DIGITS.match(number):
        return card_error("invalid_number", "Your card number is invalid.", "number")
    if not luhn_valid(number):
        return card_error("incorrect_number", "Your card number is incorrect.", "number")
    month, year = str(raw["exp_month"]), str(raw["exp_year"])
    if not month.isdigit() or not 1 <= int(month) <= 12:
        return card_error(
            "invalid_expiry_month", "Your card's expiration month is invalid.", "exp_month"
        )
    if (
        not year.isdigit()
        or int(year) < now.year
        or (int(year) == now.year and int(month) < now.month)
    ):
        return card_error(
            "invalid_expiry_year", "Your card's expiration year is invalid.", "exp_year"
        )
    cvc = raw.get("cvc")
    if cvc is not None and not (isinstance(cvc, str) and _CVC.match(cvc)):
        return card_error("invalid_cvc", "Your card's security code is invalid.", "cvc")
    billing = data.get("billing_details", {})
    address = billing.get("address", {}) if isinstance(billing, dict) else {}
    postal = address.get("postal_code") if isinstance(address, dict) else None
    return Card(number, int(month), int(year), cvc, postal if isinstance(postal, str) else None)


def luhn_valid(number: str) -> bool:
    total = 0
    for index, digit in enumerate(int(d) for d in reversed(number)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _declined(decline_code: str, message: str, code: str = "card_declined") -> Outcome:
    error = StripeError(402, "card_error", message, code, decline_code)
    return Outcome("requires_payment_method", error)


_OUTCOMES: dict[str, Outcome] = {
    "4000000000000002": _declined("generic_decline", "Your card was declined."),
    "4000000000009995": _declined("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": _declined("expired_card", "Your card has expired.", "expired_card"),
    "4000000000000127": _declined(
        "incorrect_cvc", "Your card's security code is incorrect.", "incorrect_cvc"
    ),
    "4000000000000119": _declined(
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
        "processing_error",
    ),
    DISPUTE_CARD: Outcome("succeeded", disputed=True),
    PROCESSING_SUCCEEDS_CARD: Outcome("processing", then=Outcome("succeeded")),
    PROCESSING_FAILS_CARD: Outcome(
        "processing",
        then=_declined("insufficient_funds", "Your card has insufficient funds."),
    ),
    "4000002500003155": Outcome("requires_action"),
}


def outcome_for(card: Card) -> Outcome:
    """What confirming a payment with this card does."""
    return _OUTCOMES.get(card.number, Outcome("succeeded"))
