"""Pure email rules: what a SendGrid Event Webhook batch says (the one reading of it) and
what each event means for us, and which part of an inbound e-mail (SendGrid Inbound Parse)
is the consumer's reply."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

import orjson
from dunning_channels.domain.webhook_errors import WebhookPayloadError
from dunning_core.contracts.events import DeliveryStatus, SignalKind

_DELIVERY = {
    "processed": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "bounce": DeliveryStatus.BOUNCED,
    "dropped": DeliveryStatus.DROPPED,
    "blocked": DeliveryStatus.BOUNCED,
}
_SIGNALS = {
    "unsubscribe": SignalKind.UNSUBSCRIBED,
    "group_unsubscribe": SignalKind.UNSUBSCRIBED,
    "spamreport": SignalKind.SPAM_REPORTED,
    # Engagement: the consumer read the message or followed one of its links.
    "open": SignalKind.ENGAGED,
    "click": SignalKind.ENGAGED,
}


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


@dataclass(frozen=True, slots=True)
class EmailEvent:
    """One event of a batch: `processed`, `delivered`, `bounce`, `unsubscribe` …
    A field the event lacks reads as empty (see `parse_event_batch`)."""

    event: str
    sg_event_id: str = ""
    sg_message_id: str = ""
    custom_args: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None
    bounce_type: str | None = None
    email: str = field(default="", repr=False)
    reason: str | None = field(default=None, repr=False)

    @property
    def provider_message_id(self) -> str:
        """The `X-Message-Id` the send returned: `sg_message_id` up to its first dot."""
        return self.sg_message_id.split(".", 1)[0]


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return str(value) if value else ""


def _event(raw: Any, index: int) -> EmailEvent:
    if not isinstance(raw, dict):
        raise WebhookPayloadError(f"event [{index}] is not an object")
    return EmailEvent(
        event=_text(raw, "event"),
        sg_event_id=_text(raw, "sg_event_id"),
        sg_message_id=_text(raw, "sg_message_id"),
        custom_args={
            k: v for k, v in raw.items() if k not in _STANDARD_FIELDS and isinstance(v, str)
        },
        status=_text(raw, "status") or None,
        bounce_type=_text(raw, "type") or None,
        email=_text(raw, "email"),
        reason=_text(raw, "reason") or None,
    )


def parse_event_batch(payload: bytes) -> tuple[EmailEvent, ...]:
    """Read a verified batch (a JSON array of event objects), all of it before anything is
    done with it: a body that is not one raises `WebhookPayloadError` (answer 400).

    No field of an event is required: SendGrid retries the whole batch until it gets a 2xx,
    so refusing it for one odd event would hold back (and, once SendGrid gives up, lose)
    every other event in it, an unsubscribe among them; and not every event names a
    recipient (account events carry no `email`). An event without a name means nothing to
    us; one without `email` still reports its delivery, and suppresses nothing."""
    try:
        batch = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise WebhookPayloadError("the body is not JSON") from exc
    if not isinstance(batch, list):
        raise WebhookPayloadError("the body is not a JSON array of events")
    return tuple(_event(raw, i) for i, raw in enumerate(batch))


def delivery_status(event: str) -> DeliveryStatus | None:
    """Our status for a SendGrid event name; None when it is not a delivery event."""
    return _DELIVERY.get(event)


def signal_kind(event: str) -> SignalKind | None:
    """The consumer signal a SendGrid event carries, if any."""
    return _SIGNALS.get(event)


# Where the quoted message starts in a reply: "On … wrote:", "El … escribió:", "… 写道：",
# Outlook's "-----Original Message-----" / "From:" block, or ">"-quoted lines.
_QUOTE_START = re.compile(
    r"^\s*(on\s.+\swrote:|el\s.+\sescribi[oó]:|.+写道[:：]|-{2,}\s*original message\s*-{2,}|"
    r"-{2,}\s*mensaje original\s*-{2,}|from:\s.+|de:\s.+|发件人[:：].*)\s*$",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr)\b[^>]*>", re.IGNORECASE)
_DROP = re.compile(r"<(style|script|blockquote)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_text(markup: str) -> str:
    """The visible text of an HTML body, quoted blocks left out."""
    text = _BLOCK.sub("\n", _DROP.sub("", markup))
    return html.unescape(_TAG.sub("", text))


def reply_text(text: str, markup: str = "") -> str:
    """What the consumer wrote above the quoted message (plain part, else the HTML's)."""
    source = text if text.strip() else html_text(markup)
    kept: list[str] = []
    for line in source.replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith(">") or _QUOTE_START.match(line):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def sender_of(from_field: str, envelope: str = "") -> str:
    """The address that wrote: the ``From`` header's (what the consumer's mail program put:
    the envelope sender may be a forwarder's bounce address), else the SMTP envelope's;
    lower-cased (our records key addresses that way); '' when neither is an address."""
    found = parseaddr(from_field)[1]
    if "@" not in found:
        try:
            data = json.loads(envelope) if envelope else {}
        except ValueError:
            data = {}
        sender = data.get("from") if isinstance(data, dict) else None
        found = sender if isinstance(sender, str) else ""
    return found.strip().lower() if "@" in found else ""
