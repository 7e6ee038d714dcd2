"""What a provider may answer to one send, as values (and the one case that is not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Provider = Literal["twilio", "sendgrid"]


@dataclass(frozen=True)
class Accepted:
    """The provider took the message as ``provider_message_id``."""

    provider_message_id: str


@dataclass(frozen=True)
class Rejected:
    """The provider refused this message for good; ``opted_out`` when the recipient
    unsubscribed from us (Twilio 21610)."""

    code: str
    message: str
    opted_out: bool = False


SendOutcome = Accepted | Rejected


class AmbiguousSend(Exception):
    """The request may have reached the provider (a timeout after sending): never resend.

    The step stays reserved; if it was sent, the provider's callback (which carries the
    step id) reports it. A possibly lost message is preferred to a certainly doubled one.
    """
