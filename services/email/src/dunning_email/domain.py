"""Pure email rules: what a SendGrid event means for us, and which part of an inbound
e-mail (SendGrid Inbound Parse) is the consumer's reply."""

from __future__ import annotations

import html
import json
import re
from email.utils import parseaddr

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
    """The address that wrote: the SMTP envelope's sender when SendGrid gives it, else the
    ``From`` header's address; lower-cased (our records key addresses that way); '' when
    neither is an address."""
    try:
        data = json.loads(envelope) if envelope else {}
    except ValueError:
        data = {}
    found = data.get("from") if isinstance(data, dict) else None
    if not isinstance(found, str) or "@" not in found:
        found = parseaddr(from_field)[1]
    return found.strip().lower() if "@" in found else ""
