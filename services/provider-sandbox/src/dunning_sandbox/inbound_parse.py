"""``POST /_sandbox/sendgrid/inbound``: a consumer e-mails a reply, and the sandbox posts it
to our Inbound Parse URL as SendGrid does: multipart/form-data with ``headers``, ``from``,
``to``, ``subject``, ``text``, ``html``, ``envelope``, ``charsets``, ``SPF`` …

SendGrid does not sign Inbound Parse; the URL it is given carries our secret (a path
token), so the sandbox posts to whatever URL it is told (``url`` or
``DUNNING_SANDBOX_SENDGRID_INBOUND_URL``).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import orjson
from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from dunning_sandbox.ids import sendgrid_message_id
from dunning_sandbox.message_store import InboundRecord
from dunning_sandbox.state import StateDep
from dunning_sandbox.webhook_dispatcher import is_allowed_callback_url

router = APIRouter(tags=["sandbox"])


class InboundEmail(BaseModel):
    """An e-mail a consumer sends to our reply address."""

    from_: str = Field(alias="from", min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    to: str = Field(default="collections@example.com", max_length=320)
    subject: str = Field(default="Re: your account", max_length=998)
    text: str = Field(default="", max_length=100_000)
    html: str | None = Field(default=None, max_length=200_000)
    message_id: str | None = Field(default=None, description="Message-ID; default: a new one")
    url: str | None = None


def parse_fields(mail: InboundEmail, message_id: str) -> dict[str, str]:
    """The form SendGrid's Inbound Parse posts (default, not the raw MIME variant)."""
    headers = (
        f"Received: from mx.example.net by mx.sendgrid.net\n"
        f"From: <{mail.from_}>\nTo: <{mail.to}>\nSubject: {mail.subject}\n"
        f"Message-ID: {message_id}\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=UTF-8\n"
    )
    fields = {
        "headers": headers,
        "dkim": "{@example.net : pass}",
        "to": mail.to,
        "from": f"<{mail.from_}>",
        "subject": mail.subject,
        "text": mail.text,
        "sender_ip": "127.0.0.1",
        "envelope": json.dumps({"to": [mail.to], "from": mail.from_}),
        "attachments": "0",
        "charsets": json.dumps(
            {"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "UTF-8"}
        ),
        "SPF": "pass",
        "spam_score": "0.1",
    }
    if mail.html is not None:
        fields["html"] = mail.html
    return fields


@router.post("/_sandbox/sendgrid/inbound")
async def simulate_inbound_email(mail: InboundEmail, state: StateDep) -> Response:
    url = mail.url or state.settings.sendgrid_inbound_url
    if url is None:
        raise HTTPException(
            400, "no inbound URL: pass 'url' or set DUNNING_SANDBOX_SENDGRID_INBOUND_URL"
        )
    if not is_allowed_callback_url(url, state.settings.callback_allowed_hosts):
        raise HTTPException(400, "the inbound URL must be a loopback URL")
    message_id = mail.message_id or f"<{sendgrid_message_id()}@mail.example.net>"
    fields = parse_fields(mail, message_id)
    record = InboundRecord(sid=message_id, from_=mail.from_, to=mail.to, body=mail.text, url=url)
    state.store.add(message_id, record)
    state.store.counts["inbound.email.received"] += 1
    # SendGrid always posts multipart/form-data, even without attachments.
    form = aiohttp.FormData(charset="utf-8", default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    try:
        async with state.session.post(url, data=form) as response:
            status, text = response.status, await response.text(errors="replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        record.delivered = False
        payload: dict[str, Any] = {"message_id": message_id, "delivered": False}
        return Response(orjson.dumps({**payload, "error": type(exc).__name__}), 502)
    record.delivered = status < 300
    body = {
        "message_id": message_id,
        "delivered": record.delivered,
        "status_code": status,
        "response_body": text[:2000],
    }
    return Response(orjson.dumps(body), media_type="application/json")
