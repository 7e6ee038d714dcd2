"""The email channel's ``Sender``: an approved step through the SendGrid adapter.

The List-Unsubscribe targets come from the vetted content's own headers, so the message
that leaves carries exactly the unsubscribe headers the gate checked.
"""

from __future__ import annotations

import re
from typing import Literal

from dunning_core.contracts.events import OutreachStep
from dunning_core.runtime.delivery import Accepted, AmbiguousSend, Rejected, SendOutcome
from dunning_core.runtime.errors import PermanentError, TransientError

from dunning_email.adapters.sendgrid_sender import (
    EmailAccepted,
    EmailRejected,
    SendGridEmailSender,
)

_TARGET = re.compile(r"<([^>]+)>")


def unsubscribe_targets(header: str) -> tuple[str, str | None]:
    """(https URL, mailto address or None) from a List-Unsubscribe header value."""
    url: str | None = None
    mailto: str | None = None
    for target in _TARGET.findall(header):
        if target.startswith("https://") or target.startswith("http://"):
            url = url or target
        elif target.startswith("mailto:"):
            mailto = mailto or target.removeprefix("mailto:")
    if url is None:
        raise PermanentError("List-Unsubscribe has no http(s) target")
    return url, mailto


class SendGridStepSender:
    def __init__(self, client: SendGridEmailSender, *, from_address: str, from_name: str) -> None:
        self.client = client
        self.from_address = from_address
        self.from_name = from_name

    @property
    def provider(self) -> Literal["sendgrid"]:
        return "sendgrid"

    async def send(self, account_id: str, step: OutreachStep) -> SendOutcome:
        content = step.content
        url, mailto = unsubscribe_targets(content.headers.get("List-Unsubscribe", ""))
        result = await self.client.send(
            to=step.destination,
            from_email=self.from_address,
            from_name=self.from_name,
            subject=content.subject or "",
            text=content.body,
            unsubscribe_url=url,
            unsubscribe_mailto=mailto,
            custom_args={"account_id": account_id, "step_id": step.step_id},
            categories=(step.stage.value,),
        )
        if isinstance(result, EmailAccepted):
            return Accepted(result.provider_message_id)
        if isinstance(result, EmailRejected):
            return Rejected(result.code, result.message)
        kind: str = result.kind
        if kind == "timeout":
            raise AmbiguousSend(f"sendgrid timeout: {result.message}")
        raise TransientError(f"sendgrid {kind}: {result.message}")
