"""The sandboxed SendGrid API: v3 Mail Send and the Event Webhook settings it needs.

`POST /v3/mail/send` answers like SendGrid (202 with `X-Message-Id`, or 400/401 with
`{"errors": [...]}`) and then reports each recipient's events, as
`sendgrid_rules.planned_events` gives them, through the signed Event Webhook in batches.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from dunning_sandbox import lookups, sendgrid_rules
from dunning_sandbox.ids import (
    sendgrid_event_id,
    sendgrid_message_id,
    sendgrid_recipient_message_id,
)
from dunning_sandbox.message_store import EmailRecord
from dunning_sandbox.state import SandboxState, StateDep
from dunning_sandbox.webhook_dispatcher import is_allowed_callback_url

router = APIRouter(prefix="/v3", tags=["sendgrid"])


def _errors(errors: list[sendgrid_rules.FieldError], status: int) -> Response:
    return Response(
        orjson.dumps(sendgrid_rules.errors_json(errors)),
        status_code=status,
        media_type="application/json",
    )


def _auth_failure(state: SandboxState, authorization: str | None) -> Response | None:
    if not authorization:
        return _errors(sendgrid_rules.AUTHORIZATION_REQUIRED, 401)
    scheme, _, key = authorization.partition(" ")
    expected = state.settings.sendgrid_api_key.get_secret_value()
    if scheme != "Bearer" or not hmac.compare_digest(key.encode(), expected.encode()):
        return _errors(sendgrid_rules.UNAUTHORIZED, 401)
    return None


@router.post("/mail/send", status_code=202)
async def send_mail(request: Request, state: StateDep) -> Response:
    refused = _auth_failure(state, request.headers.get("authorization"))
    if refused is not None:
        return refused
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        state.store.counts["email.rejected"] += 1
        return _errors(sendgrid_rules.BAD_JSON, 400)
    errors = sendgrid_rules.validate_mail(body)
    if errors:
        state.store.counts["email.rejected"] += 1
        return _errors(errors, 400)
    if sendgrid_rules.is_sandbox_mode(body):
        state.store.counts["email.sandbox_mode"] += 1
        return Response(status_code=200)

    recipients = sendgrid_rules.recipients(body)
    hang_s = 0.0
    for recipient in recipients:
        fault = state.faults.take(recipient.email)
        if fault is not None and fault.hang_s is not None:
            hang_s = max(hang_s, fault.hang_s)
        elif fault is not None:
            state.store.counts["email.faulted"] += 1
            response = _errors(sendgrid_rules.fault_errors(fault.status), fault.status)
            response.headers.update(fault.headers(sendgrid=True))
            return response
    x_message_id = sendgrid_message_id()
    first = body["personalizations"][0]
    record = EmailRecord(
        message_id=x_message_id,
        from_email=body["from"]["email"],
        recipients=[r.email for r in recipients],
        subject=first.get("subject") or body.get("subject"),
        headers={**(body.get("headers") or {}), **(first.get("headers") or {})},
        custom_args=dict(recipients[0].custom_args),
        created_at=int(time.time()),
    )
    state.store.add(x_message_id, record)
    state.store.counts["email.accepted"] += 1
    state.store.counts["email.recipients"] += len(recipients)
    _schedule_events(state, record, recipients, body.get("categories"))
    if hang_s:
        state.store.counts["email.hung"] += 1
        await asyncio.sleep(hang_s)  # sent; the answer comes too late for the caller
    return Response(status_code=202, headers={"X-Message-Id": x_message_id})


@router.get("/messages")
async def email_activity(
    request: Request,
    state: StateDep,
    query: str = Query(default=""),
    limit: int = Query(default=10, ge=1, le=1000),
) -> Response:
    """The Email Activity API's message filter (see ``lookups``)."""
    refused = _auth_failure(state, request.headers.get("authorization"))
    if refused is not None:
        return refused
    clauses = lookups.parse_activity_query(query) if query else []
    if clauses is None:
        return _errors([sendgrid_rules.FieldError("invalid query", "query", None)], 400)
    records = (r for r in state.store.newest_first("email") if isinstance(r, EmailRecord))
    found = []
    for message in lookups.activity_messages(records):
        if lookups.activity_matches(message, clauses):
            found.append({k: v for k, v in message.items() if k != "unique_args"})
            if len(found) >= limit:
                break
    return Response(orjson.dumps({"messages": found}), media_type="application/json")


class EventWebhookSettings(BaseModel):
    """The part of SendGrid's Event Webhook settings the sandbox honours."""

    enabled: bool = True
    url: str | None = None


@router.patch("/user/webhooks/event/settings")
async def update_event_webhook(
    settings: EventWebhookSettings, request: Request, state: StateDep
) -> Response:
    refused = _auth_failure(state, request.headers.get("authorization"))
    if refused is not None:
        return refused
    url = settings.url if settings.enabled else None
    if url is not None and not is_allowed_callback_url(url, state.settings.callback_allowed_hosts):
        error = sendgrid_rules.FieldError("url must be a loopback URL in the sandbox", "url", None)
        return _errors([error], 400)
    state.batcher.url = url
    payload = {"enabled": url is not None, "url": url or "", **dict.fromkeys(_EVENT_FLAGS, True)}
    return Response(orjson.dumps(payload), media_type="application/json")


@router.get("/user/webhooks/event/settings/signed")
async def signed_webhook_public_key(request: Request, state: StateDep) -> Response:
    refused = _auth_failure(state, request.headers.get("authorization"))
    if refused is not None:
        return refused
    payload = {"public_key": state.signer.public_key_base64}
    return Response(orjson.dumps(payload), media_type="application/json")


_EVENT_FLAGS = (
    "processed",
    "delivered",
    "deferred",
    "bounce",
    "dropped",
    "spam_report",
    "unsubscribe",
    "group_unsubscribe",
)


def build_event(
    event: str,
    email: str,
    sg_message_id: str,
    custom_args: dict[str, str] | Any,
    extra: dict[str, str] | Any = None,
    categories: Any = None,
) -> dict[str, Any]:
    """One Event Webhook event; custom args sit at the top level, as SendGrid puts them."""
    x_message_id = sg_message_id.split(".", 1)[0]
    built: dict[str, Any] = dict(custom_args)
    if categories:
        built["category"] = categories
    built.update(extra or {})
    built.update(
        email=email,
        timestamp=int(time.time()),
        event=event,
        sg_event_id=sendgrid_event_id(),
        sg_message_id=sg_message_id,
    )
    built["smtp-id"] = f"<{x_message_id}@sandbox.sendgrid.local>"
    return built


def _schedule_events(
    state: SandboxState,
    record: EmailRecord,
    recipients: list[sendgrid_rules.Recipient],
    categories: Any,
) -> None:
    """Emit the n-th event of every recipient at n × the callback delay."""
    planned = [
        (
            r,
            sendgrid_recipient_message_id(record.message_id, i),
            sendgrid_rules.planned_events(r.email),
        )
        for i, r in enumerate(recipients)
    ]
    rounds = max(len(events) for _, _, events in planned)
    record.unreported += sum(len(events) for _, _, events in planned)

    def reported(_delivered: bool) -> None:
        record.unreported -= 1

    def emit(round_: int) -> None:
        batch = []
        for recipient, sg_message_id, events in planned:
            if round_ < len(events):
                step = events[round_]
                batch.append(
                    build_event(
                        step.event,
                        recipient.email,
                        sg_message_id,
                        recipient.custom_args,
                        step.extra,
                        categories,
                    )
                )
                record.events.append(step.event)
                state.store.counts[f"email.event.{step.event}"] += 1
        state.batcher.add(batch, reported)

    for round_ in range(rounds):
        state.later(state.callback_delay_s * (round_ + 1), emit, round_)
