"""The sandboxed Twilio Messages API: create, fetch and list, with signed status callbacks.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` answers like Twilio (201 with the
Message resource, or Twilio's error shape) and then walks the message through the
statuses `twilio_rules.outcome_for` gives, POSTing one signed status callback per status
to the message's `StatusCallback`, in order. `GET …/Messages.json` lists them (filters in
`lookups`), as reconciliation asks Twilio whether a message whose answer was lost exists.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Request, Response

from dunning_sandbox import lookups, twilio_rules
from dunning_sandbox.ids import twilio_sid
from dunning_sandbox.message_store import SmsRecord
from dunning_sandbox.signing import TWILIO_SIGNATURE_HEADER, twilio_signature
from dunning_sandbox.state import SandboxState, StateDep, rfc2822_now
from dunning_sandbox.webhook_dispatcher import Delivery, is_allowed_callback_url

router = APIRouter(prefix="/2010-04-01/Accounts/{account_sid}", tags=["twilio"])

# The sender a messaging service "picks" when a message names no From.
SERVICE_POOL_NUMBER = "+15005550006"


def _json(payload: dict[str, Any], status: int) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _error(error: twilio_rules.TwilioApiError) -> Response:
    return _json(error.to_json(), error.http_status)


def _unauthorized() -> Response:
    payload = twilio_rules.AUTHENTICATE.to_json()
    payload["detail"] = "Your AccountSid or AuthToken was incorrect."
    response = _json(payload, 401)
    response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _authenticated(state: SandboxState, authorization: str | None) -> bool:
    if not authorization or not authorization.startswith("Basic "):
        return False
    try:
        user, _, password = (
            base64.b64decode(authorization[6:], validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    return any(
        hmac.compare_digest(user, known_user) and hmac.compare_digest(password, known_password)
        for known_user, known_password in state.twilio_credentials
    )


def _check_account(state: SandboxState, request: Request, account_sid: str) -> Response | None:
    if not _authenticated(state, request.headers.get("authorization")):
        return _unauthorized()
    if account_sid != state.settings.twilio_account_sid:
        return _error(twilio_rules.not_found(request.url.path))
    return None


def message_resource(record: SmsRecord) -> dict[str, Any]:
    uri = f"/2010-04-01/Accounts/{record.account_sid}/Messages/{record.sid}"
    return {
        "account_sid": record.account_sid,
        "api_version": twilio_rules.API_VERSION,
        "body": record.body,
        "date_created": record.date_created,
        "date_sent": record.date_sent,
        "date_updated": record.date_updated or record.date_created,
        "direction": "outbound-api",
        "error_code": record.error_code,
        "error_message": None,
        "from": record.from_,
        "messaging_service_sid": record.messaging_service_sid,
        "num_media": "0",
        "num_segments": str(record.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": record.sid,
        "status": record.status,
        "to": record.to,
        "subresource_uris": {
            "media": f"{uri}/Media.json",
            "feedback": f"{uri}/Feedback.json",
        },
        "uri": f"{uri}.json",
    }


@router.post("/Messages.json", status_code=201)
async def create_message(account_sid: str, request: Request, state: StateDep) -> Response:
    refused = _check_account(state, request, account_sid)
    if refused is not None:
        return refused
    raw = await request.body()
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    parsed = twilio_rules.parse_create_request(form)
    if isinstance(parsed, twilio_rules.TwilioApiError):
        state.store.counts["sms.rejected"] += 1
        return _error(parsed)
    if parsed.status_callback is not None and not is_allowed_callback_url(
        parsed.status_callback, state.settings.callback_allowed_hosts
    ):
        state.store.counts["sms.rejected"] += 1
        return _error(twilio_rules.invalid_status_callback(parsed.status_callback))
    fault = state.faults.take(parsed.to)
    if fault is not None and not fault.accepts:
        state.store.counts["sms.faulted"] += 1
        response = _error(twilio_rules.fault_error(fault.status))
        response.headers.update(fault.headers())
        return response
    if (parsed.from_ or SERVICE_POOL_NUMBER, parsed.to) in state.opted_out:
        state.store.counts["sms.rejected"] += 1
        state.store.counts["sms.opted_out"] += 1
        return _error(twilio_rules.UNSUBSCRIBED)
    outcome = twilio_rules.outcome_for(parsed.to)
    if isinstance(outcome, twilio_rules.TwilioApiError):
        state.store.counts["sms.rejected"] += 1
        return _error(outcome)

    record = SmsRecord(
        sid=twilio_sid("SM"),
        account_sid=account_sid,
        to=parsed.to,
        from_=parsed.from_,
        messaging_service_sid=parsed.messaging_service_sid,
        body=parsed.body,
        num_segments=twilio_rules.segment_count(parsed.body),
        status_callback=parsed.status_callback,
        date_created=rfc2822_now(),
        # Twilio answers "accepted" while a messaging service still has to pick a sender.
        status="queued" if parsed.from_ is not None else "accepted",
    )
    state.store.add(record.sid, record)
    state.store.counts["sms.accepted"] += 1
    _start_lifecycle(state, record, outcome)
    if fault is not None and fault.hang_s is not None:
        state.store.counts["sms.hung"] += 1
        await asyncio.sleep(fault.hang_s)  # sent; the answer comes too late for the caller
    return _json(message_resource(record), 201)


@router.get("/Messages.json")
async def list_messages(account_sid: str, request: Request, state: StateDep) -> Response:
    refused = _check_account(state, request, account_sid)
    if refused is not None:
        return refused
    params = dict(request.query_params)
    try:
        page = max(0, int(params.get("Page", "0")))
        page_size = min(1000, max(1, int(params.get("PageSize", "50"))))
    except ValueError:
        return _error(twilio_rules.TwilioApiError(400, 20001, "Invalid paging parameter"))
    records = (r for r in state.store.newest_first("sms") if isinstance(r, SmsRecord))
    kept = lookups.twilio_matches(records, params)
    if kept is None:
        return _error(twilio_rules.TwilioApiError(400, 20001, "Invalid DateSent filter"))
    resources = [message_resource(r) for r in kept]
    return _json(lookups.twilio_page(resources, request.url.path, page, page_size), 200)


@router.get("/Messages/{message_sid}.json")
async def fetch_message(
    account_sid: str, message_sid: str, request: Request, state: StateDep
) -> Response:
    refused = _check_account(state, request, account_sid)
    if refused is not None:
        return refused
    record = state.store.get(message_sid)
    if not isinstance(record, SmsRecord):
        return _error(twilio_rules.not_found(request.url.path))
    return _json(message_resource(record), 200)


def status_callback_params(record: SmsRecord, stage: twilio_rules.DeliveryStage) -> dict[str, str]:
    """The form fields of one status callback, as Twilio posts them."""
    params = {
        "ApiVersion": twilio_rules.API_VERSION,
        "AccountSid": record.account_sid,
        "MessageSid": record.sid,
        "SmsSid": record.sid,
        "MessageStatus": stage.status,
        "SmsStatus": stage.status,
        "From": record.from_ or SERVICE_POOL_NUMBER,
        "To": record.to,
    }
    if record.messaging_service_sid is not None:
        params["MessagingServiceSid"] = record.messaging_service_sid
    if stage.error_code is not None:
        params["ErrorCode"] = str(stage.error_code)
    if stage.status in ("delivered", "undelivered"):
        params["RawDlrDoneDate"] = time.strftime("%y%m%d%H%M", time.gmtime())
    return params


def signed_form(auth_token: str, url: str, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A form body and the headers Twilio sends with it, signed for `url`."""
    return urlencode(params).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        TWILIO_SIGNATURE_HEADER: twilio_signature(auth_token, url, params),
    }


def _start_lifecycle(
    state: SandboxState, record: SmsRecord, stages: tuple[twilio_rules.DeliveryStage, ...]
) -> None:
    """Reach each stage in turn; the next one waits until the previous callback is done."""
    delay = state.callback_delay_s
    token = state.settings.twilio_auth_token.get_secret_value()
    record.unreported = len(stages)

    def reach(index: int) -> None:
        stage = stages[index]
        now = rfc2822_now()
        record.status, record.error_code, record.date_updated = stage.status, stage.error_code, now
        if stage.status == "sent":
            record.date_sent = now
            if record.from_ is None:
                record.from_ = SERVICE_POOL_NUMBER
        state.store.counts[f"sms.status.{stage.status}"] += 1

        def reported(_delivered: bool = True) -> None:
            record.unreported -= 1
            if index + 1 < len(stages):
                state.later(delay, reach, index + 1)

        url = record.status_callback
        if url is None:
            reported()
            return
        prepared = signed_form(token, url, status_callback_params(record, stage))
        state.dispatcher.submit(Delivery(url=url, build=lambda: prepared, on_done=reported))

    state.later(delay, reach, 0)
