"""Pure email rules: what a SendGrid event means for us."""

from __future__ import annotations

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
}


def delivery_status(event: str) -> DeliveryStatus | None:
    """Our status for a SendGrid event name; None when it is not a delivery event."""
    return _DELIVERY.get(event)


def signal_kind(event: str) -> SignalKind | None:
    """The consumer signal a SendGrid event carries, if any."""
    return _SIGNALS.get(event)
