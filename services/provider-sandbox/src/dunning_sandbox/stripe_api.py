"""The sandboxed Stripe PaymentIntents API, with idempotency keys and signed dispute events.

- `POST /v1/payment_intents` (form-encoded; `confirm=true` with `payment_method_data`
  charges the card at once), `POST /v1/payment_intents/{id}/confirm`,
  `GET /v1/payment_intents/{id}`.
- Secret-key auth (`Authorization: Bearer sk_test_…`, or the key as Basic user): else 401.
- `Idempotency-Key`: the first answer for a key is saved once the endpoint ran (2xx, a
  402 decline) and replayed with `Idempotent-Replayed: true`; other parameters under the
  same key are a 400 `idempotency_error`. A 400 validation error is not saved.
- Faults (`/_sandbox/faults`) are keyed by card number, or `stripe` for every charge;
  they come before the endpoint runs (nothing saved, so a retry with the key goes
  through), except `hang_s`: charged and saved, answered late (the answer lost).
- The dispute test card: `stripe_dispute_delay_ms` after it succeeds, a
  `charge.dispute.created` event goes to `stripe_webhook_url` with `Stripe-Signature`;
  the delayed cards answer `processing` and `stripe_processing_delay_ms` later end in
  `payment_intent.succeeded` or `payment_intent.payment_failed` (stripe_events.py; the
  settings can be changed at run time: `POST /_sandbox/stripe/webhook`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request, Response

from dunning_sandbox import stripe_rules
from dunning_sandbox.charge_store import PaymentRecord, SavedAnswer, fingerprint
from dunning_sandbox.faults import Fault
from dunning_sandbox.ids import stripe_id
from dunning_sandbox.state import SandboxState, StateDep
from dunning_sandbox.stripe_events import dispute_later, finish_processing, payment_intent
from dunning_sandbox.stripe_rules import StripeError

router = APIRouter(prefix="/v1/payment_intents", tags=["stripe"])

ALL_CHARGES = "stripe"  # a fault destination meaning every charge


def _json(payload: Any, status: int, replayed: bool = False) -> Response:
    response = Response(orjson.dumps(payload), status_code=status, media_type="application/json")
    response.headers["Request-Id"] = stripe_id("req")
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _error(error: StripeError, extra: dict[str, Any] | None = None) -> Response:
    return _json({"error": error.to_json() | (extra or {})}, error.http_status)


def _key_of(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _unauthorized(state: SandboxState, request: Request) -> Response | None:
    key = _key_of(request.headers.get("authorization"))
    expected = state.settings.stripe_secret_key.get_secret_value()
    if key is not None and hmac.compare_digest(key, expected):
        return None
    state.charges.counts["stripe.unauthorized"] += 1
    message = (
        "You did not provide an API key."
        if not key
        else f"Invalid API Key provided: {key[:8]}{'*' * 4}{key[-4:]}"
    )
    response = _error(StripeError(401, "invalid_request_error", message))
    response.headers["WWW-Authenticate"] = 'Bearer realm="Stripe"'
    return response


def _fault(state: SandboxState, card: stripe_rules.Card | None) -> Fault | None:
    fault = state.faults.take(card.number) if card is not None else None
    return fault or state.faults.take(ALL_CHARGES)


def _fault_answer(state: SandboxState, fault: Fault) -> Response:
    state.charges.counts["stripe.faulted"] += 1
    if fault.status == 429:
        error = StripeError(
            429,
            "invalid_request_error",
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            "rate_limit",
        )
    else:
        error = StripeError(fault.status, "api_error", "An unknown error occurred")
    response = _error(error)
    response.headers.update(fault.headers())
    return response


def _confirm(state: SandboxState, record: PaymentRecord, card: stripe_rules.Card) -> Response:
    """Charge `card` for `record`: its answer (200, or the 402 decline)."""
    outcome = stripe_rules.outcome_for(card)
    record.brand, record.last4 = card.brand, card.last4
    record.exp_month, record.exp_year = card.exp_month, card.exp_year
    record.payment_method_id = stripe_id("pm")
    record.status = outcome.status
    if outcome.status != "requires_action":
        record.charge_id = stripe_id("ch")
    record.last_payment_error = outcome.decline
    state.charges.counts[f"stripe.{outcome.status}"] += 1
    if outcome.disputed:
        state.later(state.stripe_endpoint.dispute_delay_s, dispute_later, state, record)
    record.then = outcome.then
    if outcome.then is not None:
        state.later(state.stripe_endpoint.processing_delay_s, finish_processing, state, record)
    if outcome.decline is not None:
        extra = {
            "charge": record.charge_id,
            "payment_intent": payment_intent(record),
            "request_log_url": f"https://dashboard.stripe.com/test/logs/{stripe_id('req')}",
        }
        return _error(outcome.decline, extra)
    return _json(payment_intent(record), 200)


# Runs the endpoint on the parsed form (and the idempotency key): its answer, and the
# fault it met (a refusing fault's answer is never saved).
Endpoint = Callable[[stripe_rules.Form, str | None], tuple[Response, Fault | None]]


async def _idempotent(state: SandboxState, request: Request, run: Endpoint) -> Response:
    """Answer through `run` once per `Idempotency-Key`."""
    refused = _unauthorized(state, request)
    if refused is not None:
        return refused
    raw = await request.body()
    key = request.headers.get("idempotency-key")
    signature = fingerprint(request.method, request.url.path, raw)
    if key is not None:
        saved = state.charges.saved(key)
        if saved is not None and saved.fingerprint != signature:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
            return _error(StripeError(400, "idempotency_error", message))
        if saved is not None:
            state.charges.counts["stripe.replayed"] += 1
            return Response(
                saved.body,
                status_code=saved.status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true", "Request-Id": stripe_id("req")},
            )
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    form = stripe_rules.parse_form(pairs)
    answer, fault = run(form, key)
    if fault is not None and not fault.accepts:
        return answer
    if key is not None and (answer.status_code < 400 or answer.status_code == 402):
        state.charges.save(key, SavedAnswer(signature, answer.status_code, bytes(answer.body)))
    if fault is not None and fault.hang_s is not None:
        state.charges.counts["stripe.hung"] += 1
        await asyncio.sleep(fault.hang_s)  # charged; the answer comes too late for the caller
    return answer


@router.post("")
async def create_payment_intent(request: Request, state: StateDep) -> Response:
    def run(form: stripe_rules.Form, key: str | None) -> tuple[Response, Fault | None]:
        parsed = stripe_rules.parse_payment_request(form)
        if isinstance(parsed, StripeError):
            state.charges.counts["stripe.invalid"] += 1
            return _error(parsed), None
        fault = _fault(state, parsed.card)
        if fault is not None and not fault.accepts:
            return _fault_answer(state, fault), fault
        pi = stripe_id("pi")
        record = PaymentRecord(
            id=pi,
            client_secret=f"{pi}_secret_{stripe_id('s')[2:]}",
            amount=parsed.amount,
            currency=parsed.currency,
            status="requires_payment_method" if parsed.card is None else "requires_confirmation",
            description=parsed.description,
            metadata=parsed.metadata,
            created=int(time.time()),
            idempotency_key=key,
        )
        state.charges.add(record)
        state.charges.counts["stripe.created"] += 1
        if parsed.confirm and parsed.card is not None:
            return _confirm(state, record, parsed.card), fault
        return _json(payment_intent(record), 200), fault

    return await _idempotent(state, request, run)


@router.post("/{payment_intent_id}/confirm")
async def confirm_payment_intent(
    payment_intent_id: str, request: Request, state: StateDep
) -> Response:
    def run(form: stripe_rules.Form, key: str | None) -> tuple[Response, Fault | None]:
        record = state.charges.get(payment_intent_id)
        if record is None:
            return _error(_no_such(payment_intent_id)), None
        if record.status not in ("requires_payment_method", "requires_confirmation"):
            message = (
                f"You cannot confirm this PaymentIntent because it has a status of {record.status}."
            )
            code = "payment_intent_unexpected_state"
            return _error(StripeError(400, "invalid_request_error", message, code)), None
        card = stripe_rules.card_of(form.get("payment_method_data"))
        if isinstance(card, StripeError):
            return _error(card), None
        if card is None:
            return _error(stripe_rules.missing("payment_method_data")), None
        fault = _fault(state, card)
        if fault is not None and not fault.accepts:
            return _fault_answer(state, fault), fault
        return _confirm(state, record, card), fault

    return await _idempotent(state, request, run)


@router.get("/{payment_intent_id}")
async def retrieve_payment_intent(
    payment_intent_id: str, request: Request, state: StateDep
) -> Response:
    refused = _unauthorized(state, request)
    if refused is not None:
        return refused
    record = state.charges.get(payment_intent_id)
    if record is None:
        return _error(_no_such(payment_intent_id))
    return _json(payment_intent(record), 200)


def _no_such(payment_intent_id: str) -> StripeError:
    return StripeError(
        404,
        "invalid_request_error",
        f"No such payment_intent: '{payment_intent_id}'",
        "resource_missing",
        None,
        "intent",
    )
