"""In-memory record of the sandbox's PaymentIntents and of Stripe idempotency keys.

A record keeps the card's brand, last four digits and expiry, never its number or CVC.
Idempotency follows Stripe: the first answer given for a key (once the endpoint ran) is
saved with a fingerprint of the request; the same key with the same request gets it
again, with other parameters an `idempotency_error`. Bounded like the message store:
past `capacity` the oldest go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dunning_sandbox.bounded import BoundedRecords, keep_bounded
from dunning_sandbox.stripe_rules import Outcome, StripeError


@dataclass(slots=True)
class PaymentRecord:
    """One PaymentIntent, with its single charge."""

    id: str
    client_secret: str
    amount: int
    currency: str
    status: str
    description: str | None
    metadata: dict[str, str]
    created: int
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    payment_method_id: str | None = None
    charge_id: str | None = None
    last_payment_error: StripeError | None = None
    idempotency_key: str | None = None
    dispute_id: str | None = None
    then: Outcome | None = None  # how a `processing` payment ends, once its time is up

    def to_json(self) -> dict[str, Any]:
        """The control API's view (GET /_sandbox/charges)."""
        error = self.last_payment_error
        return {
            "id": self.id,
            "charge_id": self.charge_id,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "description": self.description,
            "metadata": self.metadata,
            "card": {
                "brand": self.brand,
                "last4": self.last4,
                "exp_month": self.exp_month,
                "exp_year": self.exp_year,
            },
            "code": error.code if error else None,
            "decline_code": error.decline_code if error else None,
            "idempotency_key": self.idempotency_key,
            "disputed": self.dispute_id is not None,
            "dispute_id": self.dispute_id,
            "created": self.created,
        }


@dataclass(slots=True)
class StripeEndpoint:
    """Where Stripe events go, the secret that signs them, how long after the dispute
    card's success its dispute comes and how long a delayed card stays `processing`: from
    settings, changed by the control API."""

    url: str | None
    secret: str
    dispute_delay_s: float
    processing_delay_s: float = 2.0


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    fingerprint: str
    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


class ChargeStore(BoundedRecords[PaymentRecord]):
    """PaymentIntents by id, and the saved answers of idempotency keys (bounded alike)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._answers: dict[str, SavedAnswer] = {}

    def add(self, record: PaymentRecord) -> None:
        keep_bounded(self._records, record.id, record, self.capacity)

    def newest_first(self) -> Iterator[PaymentRecord]:
        return reversed(self._records.values())

    def saved(self, key: str) -> SavedAnswer | None:
        return self._answers.get(key)

    def save(self, key: str, answer: SavedAnswer) -> None:
        keep_bounded(self._answers, key, answer, self.capacity)

    def clear(self) -> None:
        super().clear()
        self._answers.clear()
