"""Identifiers in the shapes the real providers use."""

from __future__ import annotations

import base64
import secrets
import string


def twilio_sid(prefix: str) -> str:
    """A Twilio resource sid: two letters and 32 lowercase hex digits (`SM…`, `MM…`)."""
    return prefix + secrets.token_hex(16)


def sendgrid_message_id() -> str:
    """An `X-Message-Id`: 22 URL-safe base64 characters, as SendGrid returns them."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def sendgrid_event_id() -> str:
    """An `sg_event_id`, unique per event."""
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode("ascii")


def sendgrid_recipient_message_id(x_message_id: str, index: int) -> str:
    """The `sg_message_id` of one recipient: the `X-Message-Id`, then SendGrid's filter suffix."""
    return f"{x_message_id}.filterdrecv-sandbox-1-{secrets.token_hex(4).upper()}-{index}.0"


_ALPHANUMERIC = string.ascii_letters + string.digits


def stripe_id(prefix: str) -> str:
    """A Stripe object id: its prefix (`pi`, `ch`, `pm`, `dp`, `evt`, `req`), `_`, 24 letters
    and digits."""
    return prefix + "_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(24))
