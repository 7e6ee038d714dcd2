"""Twilio's webhooks: verify `X-Twilio-Signature`, read status callbacks and inbound texts.

A missing or wrong signature raises `WebhookSignatureError` (answer 403, touch nothing); a
signed request without a field we need, `WebhookPayloadError` (answer 400).

Twilio signs the URL it called (scheme, host, port, path, query) as configured on its
side, not what this process sees behind a proxy; `public_url` rebuilds it from our
public base URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dunning_channels.domain.webhook_errors import WebhookPayloadError, WebhookSignatureError
from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url(public_base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio called: our public base, then the path and query we received."""
    url = public_base_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


class TwilioSignatureVerifier:
    """Checks signatures made with the account's auth token (Twilio's HMAC-SHA1 scheme)."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def verify(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        """True when `signature` is Twilio's signature of a POST of `params` to `url`.

        `params` may also be a multi-dict (Starlette's `FormData`): repeated fields count.
        """
        if not signature:
            return False
        return bool(self._validator.validate(url, params, signature))

    def check(self, url: str, params: Mapping[str, str], signature: str | None) -> None:
        """Raise `WebhookSignatureError` unless the signature is right."""
        if signature is None or not self.verify(url, params, signature):
            raise WebhookSignatureError("invalid X-Twilio-Signature")


@dataclass(frozen=True, slots=True, kw_only=True)
class TwilioMessageWebhook:
    """What every message webhook says of its message: which one, on which account, and
    between which numbers (kept out of `repr`: they are personal data)."""

    message_sid: str
    account_sid: str
    messaging_service_sid: str | None = None
    to: str = field(default="", repr=False)
    from_: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusCallback(TwilioMessageWebhook):
    """A message reached a status (`sent`, `delivered`, `undelivered`, `failed` …)."""

    status: str
    error_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage(TwilioMessageWebhook):
    """A text a consumer sent to one of our numbers (a reply, STOP, HELP …)."""

    num_media: int
    body: str = field(default="", repr=False)


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise WebhookPayloadError(f"missing field {name}")
    return value


def parse_status_callback(params: Mapping[str, str]) -> StatusCallback:
    """Read a message status callback (`MessageStatus`, falling back to `SmsStatus`)."""
    status = params.get("MessageStatus") or params.get("SmsStatus")
    if not status:
        raise WebhookPayloadError("missing field MessageStatus")
    return StatusCallback(
        message_sid=params.get("MessageSid") or _required(params, "SmsSid"),
        status=status.lower(),
        account_sid=_required(params, "AccountSid"),
        error_code=params.get("ErrorCode") or None,
        messaging_service_sid=params.get("MessagingServiceSid") or None,
        to=params.get("To", ""),
        from_=params.get("From", ""),
    )


def parse_inbound_message(params: Mapping[str, str]) -> InboundMessage:
    """Read an incoming-message webhook."""
    try:
        num_media = int(params.get("NumMedia") or 0)
    except ValueError as exc:
        raise WebhookPayloadError("NumMedia is not a number") from exc
    return InboundMessage(
        message_sid=params.get("MessageSid") or _required(params, "SmsMessageSid"),
        account_sid=_required(params, "AccountSid"),
        num_media=num_media,
        messaging_service_sid=params.get("MessagingServiceSid") or None,
        from_=_required(params, "From"),
        to=_required(params, "To"),
        body=params.get("Body", ""),
    )
