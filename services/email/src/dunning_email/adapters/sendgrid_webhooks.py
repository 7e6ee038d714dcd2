"""SendGrid's signed Event Webhook: verify a batch, then read its events.

A missing, wrong or stale signature raises `WebhookSignatureError` (answer 403); a signed
body that is not an event batch, `WebhookPayloadError` (answer 400).

SendGrid signs `timestamp + payload` with ECDSA P-256/SHA-256; the verification key is
the base64 DER public key shown on its Mail Settings page (and served by the sandbox).
Verification goes through the SDK's `EventWebhook`; a timestamp older than `max_age_s`
is refused as a replay. Custom args travel as top-level fields of each event.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from dunning_channels.domain.webhook_errors import WebhookPayloadError, WebhookSignatureError
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

SIGNATURE_HEADER: str = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: str = EventWebhookHeader.TIMESTAMP

# Fields SendGrid itself puts on events; every other string field is one of our custom args.
_STANDARD_FIELDS = frozenset(
    {
        "email", "timestamp", "event", "sg_event_id", "sg_message_id", "smtp-id", "category",
        "reason", "status", "type", "response", "attempt", "useragent", "ip", "url", "url_offset",
        "tls", "cert_err", "asm_group_id", "bounce_classification", "marketing_campaign_id",
        "marketing_campaign_name", "marketing_campaign_version", "marketing_campaign_split_id",
        "sg_machine_open", "sg_template_id", "sg_template_name", "sg_content_type", "pool",
        "send_at", "mc_stats", "singlesend_id", "singlesend_name", "template_id",
        "template_version_id", "template_hash", "phase_id", "post_type", "sg_user_id",
        "unique_args", "newsletter",
    }
)  # fmt: skip


class SendGridSignatureVerifier:
    """Checks Event Webhook signatures against one public key."""

    def __init__(
        self,
        public_key: str,
        *,
        max_age_s: float | None = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not public_key.strip():
            raise ValueError("no Event Webhook public key is configured")
        try:
            self._webhook = EventWebhook(public_key.strip())
        except ValueError as exc:
            raise ValueError("the Event Webhook public key is not a base64 DER key") from exc
        self._max_age_s = max_age_s
        self._clock = clock

    def verify(self, payload: bytes, signature: str, timestamp: str) -> bool:
        """True when `signature` signs `timestamp + payload` and the timestamp is recent."""
        if not signature or not timestamp.isdigit():
            return False
        if self._max_age_s is not None and abs(self._clock() - int(timestamp)) > self._max_age_s:
            return False
        try:
            return bool(
                self._webhook.verify_signature(payload.decode("utf-8"), signature, timestamp)
            )
        except (UnicodeDecodeError, binascii.Error, ValueError):
            return False

    def check(self, payload: bytes, signature: str | None, timestamp: str | None) -> None:
        """Raise `WebhookSignatureError` unless the batch is correctly signed and recent."""
        if not signature or not timestamp or not self.verify(payload, signature, timestamp):
            raise WebhookSignatureError("invalid Event Webhook signature")


@dataclass(frozen=True, slots=True)
class EmailEvent:
    """One event of a batch: `processed`, `delivered`, `bounce`, `unsubscribe` …"""

    event: str
    sg_event_id: str
    sg_message_id: str
    timestamp: int
    custom_args: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None
    bounce_type: str | None = None
    asm_group_id: int | None = None
    email: str = field(default="", repr=False)
    reason: str | None = field(default=None, repr=False)

    @property
    def provider_message_id(self) -> str:
        """The `X-Message-Id` the send returned: `sg_message_id` up to its first dot."""
        return self.sg_message_id.split(".", 1)[0]


def _event(raw: Any, index: int) -> EmailEvent:
    if not isinstance(raw, dict):
        raise WebhookPayloadError(f"event {index} is not an object")
    try:
        event, email, timestamp = raw["event"], raw["email"], raw["timestamp"]
    except KeyError as exc:
        raise WebhookPayloadError(f"event {index} has no {exc.args[0]}") from exc
    if not isinstance(event, str) or not isinstance(email, str) or not isinstance(timestamp, int):
        raise WebhookPayloadError(f"event {index} has a field of the wrong type")
    group = raw.get("asm_group_id")
    return EmailEvent(
        event=event,
        sg_event_id=str(raw.get("sg_event_id", "")),
        sg_message_id=str(raw.get("sg_message_id", "")),
        timestamp=timestamp,
        custom_args={
            k: v for k, v in raw.items() if k not in _STANDARD_FIELDS and isinstance(v, str)
        },
        status=str(raw["status"]) if "status" in raw else None,
        bounce_type=str(raw["type"]) if "type" in raw else None,
        asm_group_id=group if isinstance(group, int) else None,
        email=email,
        reason=str(raw["reason"]) if "reason" in raw else None,
    )


def parse_event_batch(payload: bytes) -> tuple[EmailEvent, ...]:
    """Read a verified batch (a JSON array of events)."""
    try:
        batch = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError("the body is not JSON") from exc
    if not isinstance(batch, list):
        raise WebhookPayloadError("the body is not a JSON array")
    return tuple(_event(raw, i) for i, raw in enumerate(batch))
