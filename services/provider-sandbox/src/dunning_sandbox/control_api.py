"""Sandbox-only endpoints: health, inspection, reset, and simulated consumer actions.

- `GET /health`
- `GET /_sandbox/messages?channel=sms|email|inbound&limit=N`: newest first, with counts
- `POST /_sandbox/reset`: forget messages, counters and undelivered webhooks
- `POST /_sandbox/drain`: flush event batches and wait for pending webhooks
- `POST /_sandbox/twilio/inbound`: a consumer texts one of our numbers (STOP, a reply…)
- `GET /_sandbox/sendgrid/public-key`: the Event Webhook verification key (base64 DER)
- `POST /_sandbox/faults`, `GET`, `DELETE`: destinations answered 429 or 5xx, or sent
  and answered late (`hang_s`: a timeout after accepting)
- `POST /_sandbox/sendgrid/events`: a consumer unsubscribes, reports spam, opens, clicks …
- `GET /_sandbox/charges?limit=N`: Stripe PaymentIntents, newest first (last four digits
  of the card only), with counts
- `POST /_sandbox/stripe/disputes`: the card holder disputes a succeeded payment now
- `POST /_sandbox/stripe/webhook`: where Stripe events go, their signing secret, the
  dispute card's delay and the delayed cards' processing time (as a Stripe dashboard's
  webhook endpoint)
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import aiohttp
import orjson
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, model_validator

from dunning_sandbox import twilio_rules
from dunning_sandbox.faults import Fault
from dunning_sandbox.ids import sendgrid_recipient_message_id, twilio_sid
from dunning_sandbox.message_store import Channel, EmailRecord, InboundRecord
from dunning_sandbox.sendgrid_api import build_event
from dunning_sandbox.state import SandboxState, StateDep
from dunning_sandbox.stripe_events import open_dispute
from dunning_sandbox.twilio_api import signed_form
from dunning_sandbox.webhook_dispatcher import Delivery, is_allowed_callback_url

router = APIRouter(tags=["sandbox"])


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "service": "provider-sandbox"}


@router.get("/_sandbox/messages")
async def list_messages(
    state: StateDep,
    channel: Channel | None = None,
    limit: int = Query(default=100, ge=0, le=100_000),
) -> Response:
    messages: list[dict[str, Any]] = []
    for record in state.store.newest_first(channel):
        if len(messages) >= limit:
            break
        messages.append(record.to_json())
    counts: dict[str, Any] = dict(sorted(state.store.counts.items()))
    counts["webhooks"] = state.dispatcher.stats.to_json(state.dispatcher.pending)
    counts["event_batches"] = state.batcher.batches_posted
    return _json({"counts": counts, "stored": len(state.store), "messages": messages})


@router.get("/_sandbox/charges")
async def list_charges(
    state: StateDep, limit: int = Query(default=100, ge=0, le=100_000)
) -> Response:
    newest = itertools.islice(state.charges.newest_first(), limit)
    charges = [record.to_json() for record in newest]
    counts = dict(sorted(state.charges.counts.items()))
    return _json({"counts": counts, "stored": len(state.charges), "charges": charges})


class DisputeRequest(BaseModel):
    """A dispute of this PaymentIntent's charge (a `charge.dispute.created` event follows)."""

    payment_intent: str


@router.post("/_sandbox/stripe/disputes")
async def simulate_dispute(request: DisputeRequest, state: StateDep) -> Response:
    record = state.charges.get(request.payment_intent)
    if record is None:
        raise HTTPException(404, "no such payment intent")
    dispute_id = open_dispute(state, record)
    if dispute_id is None:
        raise HTTPException(409, f"a {record.status} payment cannot be disputed (again)")
    return _json({"dispute_id": dispute_id, "payment_intent": record.id}, 202)


class StripeWebhookRequest(BaseModel):
    """The Stripe webhook endpoint: a URL (null: send no events), and optionally a new
    signing secret, dispute delay and processing time; what is not given stays."""

    url: str | None
    secret: str | None = Field(default=None, min_length=1)
    dispute_delay_ms: int | None = Field(default=None, ge=0)
    processing_delay_ms: int | None = Field(default=None, ge=0)


@router.post("/_sandbox/stripe/webhook")
async def set_stripe_webhook(request: StripeWebhookRequest, state: StateDep) -> Response:
    if request.url is not None and not is_allowed_callback_url(
        request.url, state.settings.callback_allowed_hosts
    ):
        raise HTTPException(400, "the webhook URL must be a loopback URL")
    endpoint = state.stripe_endpoint
    endpoint.url = request.url
    if request.secret is not None:
        endpoint.secret = request.secret
    if request.dispute_delay_ms is not None:
        endpoint.dispute_delay_s = request.dispute_delay_ms / 1000
    if request.processing_delay_ms is not None:
        endpoint.processing_delay_s = request.processing_delay_ms / 1000
    delay_ms = round(endpoint.dispute_delay_s * 1000)
    processing_ms = round(endpoint.processing_delay_s * 1000)
    return _json(
        {"url": endpoint.url, "dispute_delay_ms": delay_ms, "processing_delay_ms": processing_ms}
    )


@router.post("/_sandbox/reset")
async def reset(state: StateDep) -> dict[str, str]:
    state.reset()
    return {"status": "reset"}


@router.post("/_sandbox/drain")
async def drain(state: StateDep, timeout_s: float = Query(default=10.0, gt=0, le=600)) -> Response:
    drained = await state.drain(timeout_s)
    stats = state.dispatcher.stats.to_json(state.dispatcher.pending)
    return _json({"drained": drained, "webhooks": stats})


class InboundSms(BaseModel):
    """A text a consumer sends to one of our numbers."""

    from_: str = Field(alias="from", pattern=r"^\+[1-9]\d{1,14}$")
    to: str = Field(pattern=r"^\+[1-9]\d{1,14}$")
    body: str = Field(max_length=1600)
    url: str | None = None
    # Deliver now and answer with the receiver's status, or queue it (with retries).
    wait: bool = True


def inbound_url(
    given: str | None, configured: str | None, setting: str, state: SandboxState
) -> str:
    """Where a simulated inbound message goes: the request's URL, else the configured one;
    400 when there is none or it is not a loopback (or allowed) URL."""
    url = given or configured
    if url is None:
        raise HTTPException(400, f"no inbound URL: pass 'url' or set {setting}")
    if not is_allowed_callback_url(url, state.settings.callback_allowed_hosts):
        raise HTTPException(400, "the inbound URL must be a loopback URL")
    return url


@router.post("/_sandbox/twilio/inbound")
async def simulate_inbound(message: InboundSms, state: StateDep) -> Response:
    setting = "DUNNING_SANDBOX_TWILIO_INBOUND_URL"
    url = inbound_url(message.url, state.settings.twilio_inbound_url, setting, state)
    sid = twilio_sid("SM")
    params = {
        "ApiVersion": twilio_rules.API_VERSION,
        "AccountSid": state.settings.twilio_account_sid,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "SmsStatus": "received",
        "From": message.from_,
        "To": message.to,
        "Body": message.body,
        "NumMedia": "0",
        "NumSegments": str(twilio_rules.segment_count(message.body)),
    }
    record = InboundRecord(sid=sid, from_=message.from_, to=message.to, body=message.body, url=url)
    state.store.add(sid, record)
    state.store.counts["inbound.received"] += 1
    # Twilio keeps the opt-out itself, before and whatever our webhook answers.
    state.heard(message.to, message.from_, twilio_rules.opt_keyword(message.body))
    body, headers = signed_form(state.settings.twilio_auth_token.get_secret_value(), url, params)
    if not message.wait:
        state.dispatcher.submit(
            Delivery(url=url, build=lambda: (body, headers), on_done=_remember(record))
        )
        return _json({"message_sid": sid, "queued": True}, 202)
    try:
        async with state.session.post(url, data=body, headers=headers) as response:
            status, text = response.status, await response.text(errors="replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        record.delivered = False
        return _json({"message_sid": sid, "delivered": False, "error": type(exc).__name__}, 502)
    record.delivered = status < 300
    return _json(
        {
            "message_sid": sid,
            "delivered": record.delivered,
            "status_code": status,
            "response_body": text[:2000],
        }
    )


def _remember(record: InboundRecord) -> Any:
    def done(delivered: bool) -> None:
        record.delivered = delivered

    return done


@router.get("/_sandbox/sendgrid/public-key")
async def public_key(state: StateDep) -> dict[str, str]:
    return {"public_key": state.signer.public_key_base64}


class SimulatedEmailEvent(BaseModel):
    """A consumer-side event for an address (or one message sent to it)."""

    email: str
    event: Literal[
        "unsubscribe", "group_unsubscribe", "spamreport", "bounce", "dropped", "open", "click"
    ]
    message_id: str | None = Field(
        default=None, description="X-Message-Id; default: the latest message to the address"
    )
    asm_group_id: int | None = None


@router.post("/_sandbox/sendgrid/events")
async def simulate_email_event(event: SimulatedEmailEvent, state: StateDep) -> Response:
    if state.batcher.url is None:
        raise HTTPException(400, "no Event Webhook URL is configured")
    record = state.store.get(event.message_id) if event.message_id else None
    if not isinstance(record, EmailRecord):
        record = state.store.latest_email_to(event.email)
    if record is None:
        raise HTTPException(404, "no message was sent to that address")
    extra: dict[str, Any] = {}
    if event.event == "group_unsubscribe" and event.asm_group_id is not None:
        extra["asm_group_id"] = event.asm_group_id
    if event.event in ("bounce", "dropped"):
        extra.update(reason="550 5.1.1 simulated", status="5.1.1", type="bounce")
    if event.event in ("open", "click"):
        extra.update(useragent="Mozilla/5.0 (sandbox)", ip="127.0.0.1", sg_machine_open=False)
    if event.event == "click":
        extra["url"] = "https://pay.example.com/"
    sg_message_id = sendgrid_recipient_message_id(record.message_id, 0)
    built = build_event(event.event, event.email, sg_message_id, record.custom_args, extra)
    record.events.append(event.event)
    state.store.counts[f"email.event.{event.event}"] += 1
    state.batcher.add([built])
    state.batcher.flush()
    return _json({"sg_event_id": built["sg_event_id"], "sg_message_id": sg_message_id}, 202)


class FaultRequest(BaseModel):
    """Answer sends to these destinations with `status` (every time, or `times` times);
    with `hang_s`, send them and answer only that many seconds later."""

    destinations: list[str] = Field(min_length=1)
    status: Literal[429, 500, 502, 503] | None = None
    retry_after_s: float | None = Field(default=None, ge=0)
    times: int | None = Field(default=None, ge=1)
    hang_s: float | None = Field(default=None, gt=0, le=600)

    @model_validator(mode="after")
    def _one_kind(self) -> FaultRequest:
        if (self.status is None) == (self.hang_s is None):
            raise ValueError("give a status or hang_s")
        return self


@router.post("/_sandbox/faults")
async def set_faults(request: FaultRequest, state: StateDep) -> Response:
    fault = Fault(request.status or 200, request.retry_after_s, request.times, request.hang_s)
    state.faults.set(request.destinations, fault)
    return _json({"faults": state.faults.to_json()}, 201)


@router.get("/_sandbox/faults")
async def list_faults(state: StateDep) -> Response:
    return _json({"faults": state.faults.to_json()})


@router.delete("/_sandbox/faults")
async def clear_faults(state: StateDep) -> Response:
    state.faults.clear()
    return _json({"faults": {}})
