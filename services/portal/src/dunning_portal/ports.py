"""What the payment page needs from the outside: the ledger (over its REST API) and the card
processor, as small protocols. The Stripe adapter (adapters/stripe_processor.py) implements
``PaymentProcessor``; tests pass fakes of both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from dunning_portal.domain.money import AccountInfo, Money, Offers

Source = Literal["page", "processor"]
ReversalReason = Literal["chargeback", "nsf", "processor_failure", "error", "other"]


@dataclass(frozen=True)
class CardDetails:
    # Never in a repr (nor so in a log line): the card number and its code.
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    postal_code: str | None


@dataclass(frozen=True)
class Charge:
    processor_id: str
    status: Literal["succeeded", "declined", "pending"]
    decline_code: str | None
    message: str | None


@dataclass(frozen=True)
class ChargeRequest:
    """One charge of ``card``: the same ``idempotency_key`` is the same charge."""

    idempotency_key: str
    amount_minor: int
    currency: str
    card: CardDetails
    description: str
    metadata: dict[str, str]


class PaymentProcessor(Protocol):
    async def charge(self, request: ChargeRequest) -> Charge: ...


@dataclass(frozen=True)
class ProcessorEvent:
    """A processor's webhook, verified and reduced to what the page acts on. A charge that
    succeeded later carries its amount (minor units) and currency (ISO 4217, upper case)."""

    kind: Literal["charge_disputed", "charge_failed", "charge_succeeded"]
    processor_id: str
    metadata: dict[str, str]
    amount_minor: int | None = None
    currency: str | None = None


class ProcessorWebhooks(Protocol):
    async def read(self, payload: bytes, signature: str | None) -> ProcessorEvent | None:
        """The event of a correctly signed webhook (None for a kind the page ignores); raises
        ``ValueError`` when it is not genuine, any other error when the processor could not
        be asked what the event is about (it sends the event again)."""
        ...


@dataclass(frozen=True)
class PaymentRecord:
    """A payment as the page (or the processor's webhook) records it in the ledger."""

    payment_id: str
    amount_minor: int
    currency: str
    method: str
    source: Source


class LedgerRefused(Exception):
    """The ledger refused a write or a read (4xx): ``status`` and its ``error`` body."""

    def __init__(self, status: int, error: object) -> None:
        super().__init__(f"ledger answered {status}")
        self.status = status
        self.error = error


class Ledger(Protocol):
    """The ledger's REST API as the page uses it (money-api.md); every write idempotent by
    its id, recorded with ``source``."""

    async def account(self, account_id: str) -> AccountInfo: ...

    async def money(self, account_id: str) -> Money: ...

    async def offers(self, account_id: str) -> Offers: ...

    async def record_payment(self, account_id: str, payment: PaymentRecord) -> None: ...

    async def reverse_payment(
        self, account_id: str, payment_id: str, *, reason: ReversalReason, source: Source
    ) -> None: ...

    async def agree_plan(self, account_id: str, *, plan_id: str, offer_id: str) -> None: ...

    async def record_promise(
        self, account_id: str, *, promise_id: str, amount_minor: int, due_on: date
    ) -> None: ...

    async def agree_settlement(
        self, account_id: str, *, settlement_id: str, offer_id: str
    ) -> None: ...

    async def record_signal(
        self, account_id: str, *, signal_id: str, kind: str, channel: str | None
    ) -> None: ...

    async def add_note(self, account_id: str, *, note_key: str, text: str) -> None:
        """Once per ``note_key`` (the ledger's notes carry no id: the key is in the text)."""
        ...
