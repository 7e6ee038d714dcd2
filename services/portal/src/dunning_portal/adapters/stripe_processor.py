"""The `PaymentProcessor` port on Stripe: one confirmed PaymentIntent per charge, through
the official SDK's asynchronous client (`StripeClient`'s `*_async` methods on the SDK's
aiohttp client, as the sms worker's Twilio client: against the provider sandbox on two
busy cores, 20 at a time, 76-81 charges/s against 24-39/s on its httpx client, which
also posts raw bytes the way httpx deprecates).

Outcomes are values; failures that are nobody's answer are exceptions:

    Charge.status
    ├── succeeded   the PaymentIntent succeeded (its id is `processor_id`)
    ├── declined    a card error (402): `decline_code` (insufficient_funds, expired_card …)
    │               and Stripe's `message`, fit to show the payer; nothing was charged
    │               (`processor_id` is "" when the card was malformed: no PaymentIntent)
    └── pending     confirmed, not finished (3D Secure, processing): a webhook settles it

    ProcessorError
    ├── ProcessorUnavailable   transient: network, timeout, 429, 5xx, still failing after
    │                          the SDK's own `max_network_retries`; retry with the SAME
    │                          idempotency key (Stripe replays a charge that went through)
    └── ProcessorRefused       permanent: bad or revoked key (401/403), a request Stripe
                               finds invalid (400), an idempotency key reused with other
                               parameters: a bug or the configuration, not the payer

The base address is configuration (`api_base`): Stripe's own, or the provider sandbox.
Raw card numbers go in `payment_method_data[card]`, which Stripe allows only to accounts
with raw card data access (a page using Stripe Elements would send a PaymentMethod id
instead); no card digits are ever logged or put in an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

import stripe
from dunning_core.runtime.closing import AsyncClosing

from dunning_portal.ports import Charge, ChargeRequest

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams

STRIPE_API_BASE = "https://api.stripe.com"
_PENDING = frozenset({"processing", "requires_action", "requires_capture", "requires_confirmation"})

UnavailableKind = Literal["network", "rate_limited", "server_error"]


class ProcessorError(Exception):
    """The processor gave no outcome for this charge."""


class ProcessorUnavailable(ProcessorError):
    """Transient: try again later, with the same idempotency key."""

    def __init__(
        self, kind: UnavailableKind, message: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retry_after_s = retry_after_s


class ProcessorRefused(ProcessorError):
    """Permanent: the request or the configuration is wrong; retrying will not help."""

    def __init__(self, code: str | None, message: str, http_status: int | None) -> None:
        super().__init__(f"{http_status} {code}: {message}")
        self.code = code
        self.http_status = http_status


class StripeProcessor(AsyncClosing):
    """Charges cards with Stripe; `async with` closes its HTTP client."""

    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str = STRIPE_API_BASE,
        max_network_retries: int = 2,
        timeout_s: float = 30.0,
    ) -> None:
        self._http = stripe.AIOHTTPClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            max_network_retries=max_network_retries,
            http_client=self._http,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    async def charge(self, request: ChargeRequest) -> Charge:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params=create_params(request),
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as error:
            return declined(error)
        except stripe.StripeError as error:
            raise translate(error) from None
        return charge_of(intent)

    async def payment_metadata(self, processor_id: str) -> dict[str, str]:
        """The metadata the charge `processor_id` was made with (a dispute event has none)."""
        try:
            intent = await self._client.v1.payment_intents.retrieve_async(processor_id)
        except stripe.StripeError as error:
            raise translate(error) from None
        return {str(k): str(v) for k, v in intent.metadata.to_dict().items()}


def create_params(request: ChargeRequest) -> PaymentIntentCreateParams:
    """One confirmed card PaymentIntent."""
    card = request.card
    card_data: dict[str, Any] = {
        "type": "card",
        "card": {
            "number": card.number,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "cvc": card.cvc,
        },
    }
    if card.postal_code:
        card_data["billing_details"] = {"address": {"postal_code": card.postal_code}}
    params = {
        "amount": request.amount_minor,
        "currency": request.currency.lower(),
        "confirm": True,
        "payment_method_types": ["card"],
        "payment_method_data": card_data,
        "description": request.description,
        "metadata": request.metadata,
    }
    # Raw card fields are not in the SDK's parameter types (see the module docstring).
    return cast("PaymentIntentCreateParams", params)


def charge_of(intent: stripe.PaymentIntent) -> Charge:
    if intent.status == "succeeded":
        return Charge(intent.id, "succeeded", None, None)
    if intent.status in _PENDING:
        return Charge(intent.id, "pending", None, None)
    error = intent.last_payment_error
    code = (error.decline_code or error.code) if error else intent.status
    return Charge(intent.id, "declined", code, error.message if error else None)


def declined(error: stripe.CardError) -> Charge:
    """A 402: the card was refused; the PaymentIntent exists unless the card was malformed."""
    details = error.error
    intent = details.payment_intent if details else None
    code = (details.decline_code if details else None) or error.code
    return Charge(intent.id if intent else "", "declined", code, error.user_message)


def translate(error: stripe.StripeError) -> ProcessorError:
    """The SDK's error as ours (never with the request's parameters)."""
    message = error.user_message or type(error).__name__
    if isinstance(error, stripe.RateLimitError):
        return ProcessorUnavailable("rate_limited", message, _retry_after(error))
    if isinstance(error, stripe.APIConnectionError):
        return ProcessorUnavailable("network", message)
    status = error.http_status
    if isinstance(error, stripe.APIError) or (status is not None and status >= 500):
        return ProcessorUnavailable("server_error", message, _retry_after(error))
    return ProcessorRefused(error.code, message, status)


def _retry_after(error: stripe.StripeError) -> float | None:
    value = error.headers.get("retry-after") if error.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
