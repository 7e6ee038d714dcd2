"""The email worker's webhook routes (thin: the work is in ``handlers``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, Response

from dunning_email.handlers import SendGridWebhooks

# Module level: FastAPI resolves postponed annotations in the module's namespace.
Sig = Annotated[str | None, Header(alias="X-Twilio-Email-Event-Webhook-Signature")]
Ts = Annotated[str | None, Header(alias="X-Twilio-Email-Event-Webhook-Timestamp")]


def router(hooks: SendGridWebhooks) -> APIRouter:
    api = APIRouter(tags=["webhooks"])

    @api.post("/webhooks/sendgrid/events")
    async def events(request: Request, signature: Sig = None, timestamp: Ts = None) -> Response:
        payload = await request.body()
        await hooks.events(payload, signature, timestamp)
        return Response(status_code=204)

    @api.post("/webhooks/sendgrid/inbound/{token}")
    async def inbound(token: str, request: Request) -> Response:
        # Inbound Parse posts multipart/form-data; the token in the path is its only proof.
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        await hooks.inbound(token, fields)
        return Response(status_code=200)

    @api.post("/unsubscribe/{token}")
    async def one_click(token: str) -> Response:
        # RFC 8058: the mailbox provider POSTs "List-Unsubscribe=One-Click" here.
        await hooks.unsubscribe(token)
        return Response(status_code=204)

    @api.get("/unsubscribe/{token}", response_class=HTMLResponse)
    async def landing(token: str) -> str:
        await hooks.unsubscribe(token)
        return "<html><body><p>You have been unsubscribed from these emails.</p></body></html>"

    return api
