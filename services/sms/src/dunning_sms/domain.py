"""Pure sms rules: what a Twilio status means, and what Twilio's webhooks say (the one
reading of their forms); what an inbound text means is shared by every channel
(``dunning_channels.domain.replies``, re-exported here).

A signed webhook without a field we need raises ``WebhookPayloadError`` (answer 400, touch
nothing). Only what the handlers use is read, and only what they cannot act without is
required: Twilio adds and varies fields by channel, and a 4xx is not retried, so a field we
do not need must not cost us a STOP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dunning_channels.domain.replies import InboundMeaning, read_inbound
from dunning_channels.domain.webhook_errors import WebhookPayloadError
from dunning_core.contracts.events import DeliveryStatus

__all__ = [
    "OPTED_OUT_ERROR",
    "InboundMeaning",
    "InboundMessage",
    "StatusCallback",
    "delivery_status",
    "parse_inbound_message",
    "parse_status_callback",
    "public_url",
    "read_inbound",
]

_STATUS = {
    "queued": DeliveryStatus.ACCEPTED,
    "accepted": DeliveryStatus.ACCEPTED,
    "sending": DeliveryStatus.ACCEPTED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def delivery_status(twilio_status: str) -> DeliveryStatus | None:
    """Our status for a Twilio MessageStatus; None for statuses we do not track."""
    return _STATUS.get(twilio_status.lower())


OPTED_OUT_ERROR = "21610"


def public_url(public_base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio called, which is what it signs: our public base (as configured on its
    side, not what this process sees behind a proxy), then the path and query we received."""
    url = public_base_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


@dataclass(frozen=True, slots=True, kw_only=True)
class TwilioMessageWebhook:
    """What every message webhook says of its message: which one, and between which
    numbers (kept out of `repr`: they are personal data)."""

    message_sid: str
    to: str = field(default="", repr=False)
    from_: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusCallback(TwilioMessageWebhook):
    """A message reached a status (`sent`, `delivered`, `undelivered`, `failed` …)."""

    status: str
    error_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage(TwilioMessageWebhook):
    """A text a consumer sent to one of our numbers (a reply, STOP, HELP …).
    `opt_out_type` is set when Twilio's Advanced Opt-Out handled (and answered) it."""

    body: str = field(default="", repr=False)
    opt_out_type: str | None = None


def _first(params: Mapping[str, str], *names: str) -> str:
    """The first of `names` given a value (Twilio's current name, then its legacy one)."""
    for name in names:
        if value := params.get(name):
            return value
    raise WebhookPayloadError(f"missing field {names[0]}")


def parse_status_callback(params: Mapping[str, str]) -> StatusCallback:
    """Read a message status callback (`MessageStatus`, falling back to `SmsStatus`)."""
    return StatusCallback(
        message_sid=_first(params, "MessageSid", "SmsSid"),
        status=_first(params, "MessageStatus", "SmsStatus").lower(),
        error_code=params.get("ErrorCode") or None,
        to=params.get("To", ""),
        from_=params.get("From", ""),
    )


def parse_inbound_message(params: Mapping[str, str]) -> InboundMessage:
    """Read an incoming-message webhook: its sid (the answer's and the signal's key) and
    its sender (whose opt-out it is) are required."""
    return InboundMessage(
        message_sid=_first(params, "MessageSid", "SmsMessageSid"),
        from_=_first(params, "From"),
        to=params.get("To", ""),
        body=params.get("Body", ""),
        opt_out_type=params.get("OptOutType") or None,
    )
