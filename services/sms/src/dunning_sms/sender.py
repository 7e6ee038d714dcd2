"""The sms channel's ``Sender``: an approved step through the Twilio adapter."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from dunning_core.contracts.events import OutreachStep
from dunning_core.runtime.delivery import Accepted, AmbiguousSend, Rejected, SendOutcome
from dunning_core.runtime.errors import TransientError

from dunning_sms.adapters.twilio_sender import SmsAccepted, SmsRejected, TwilioSmsSender


class TwilioStepSender:
    provider: Literal["twilio"] = "twilio"

    def __init__(
        self,
        client: TwilioSmsSender,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        public_base_url: str,
    ) -> None:
        self.client = client
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.public_base_url = public_base_url.rstrip("/")

    def status_callback(self, account_id: str, step_id: str) -> str:
        # The step travels in the callback URL, so a status maps back to its step even if
        # the worker died before it recorded the provider's message id.
        query = urlencode({"account_id": account_id, "step_id": step_id})
        return f"{self.public_base_url}/webhooks/twilio/status?{query}"

    async def send(self, account_id: str, step: OutreachStep) -> SendOutcome:
        result = await self.client.send(
            to=step.destination,
            body=step.content.body,
            from_=None if self.messaging_service_sid else self.from_number,
            messaging_service_sid=self.messaging_service_sid,
            status_callback=self.status_callback(account_id, step.step_id),
        )
        if isinstance(result, SmsAccepted):
            return Accepted(result.provider_message_id)
        if isinstance(result, SmsRejected):
            return Rejected(result.code, result.message, opted_out=result.opted_out)
        if result.kind == "timeout":
            raise AmbiguousSend(f"twilio timeout: {result.message}")
        raise TransientError(f"twilio {result.kind}: {result.message}")
