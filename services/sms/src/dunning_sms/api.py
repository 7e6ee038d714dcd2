"""The sms worker's webhook routes (thin: the work is in ``handlers``)."""

from __future__ import annotations

from typing import Annotated
from xml.sax.saxutils import escape

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from dunning_sms.handlers import TwilioWebhooks

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twiml(message: str | None) -> str:
    """The webhook's answer: empty, or one ``<Message>`` Twilio sends back to the sender."""
    if message is None:
        return EMPTY_TWIML
    body = f"<Message>{escape(message)}</Message>"
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


# Module level: FastAPI resolves postponed annotations in the module's namespace.
Signature = Annotated[str | None, Header(alias="X-Twilio-Signature")]


def router(hooks: TwilioWebhooks) -> APIRouter:
    api = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

    @api.post("/status")
    async def status(request: Request, x_twilio_signature: Signature = None) -> Response:
        await hooks.status(request, x_twilio_signature)
        return Response(status_code=204)

    @api.post("/inbound")
    async def inbound(request: Request, x_twilio_signature: Signature = None) -> Response:
        answer = await hooks.inbound(request, x_twilio_signature)
        return Response(
            content=twiml(answer.text if answer else None), media_type="application/xml"
        )

    return api
