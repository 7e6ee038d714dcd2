"""Pure sms rules: what a Twilio status means; what an inbound text means is shared by
every channel (``dunning_channels.domain.replies``, re-exported here)."""

from __future__ import annotations

from dunning_channels.domain.replies import InboundMeaning, read_inbound
from dunning_core.contracts.events import DeliveryStatus

__all__ = ["OPTED_OUT_ERROR", "InboundMeaning", "delivery_status", "read_inbound"]

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
