"""What a provider may answer to one send, as values (and the one case that is not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Provider = Literal["twilio", "sendgrid"]
TransientKind = Literal["rate_limited", "server_error", "timeout", "network", "auth"]


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


@dataclass(frozen=True)
class Unavailable:
    """Nothing was sent and a later try may succeed: rate limited (``kind``
    ``rate_limited``), provider errors, network, refused credentials. ``retry_after_s`` is
    what the provider asked us to wait (``Retry-After``, rate-limit reset headers)."""

    kind: str
    message: str
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class ProviderTransient:
    """A provider client's failure that may pass: retry with backoff.

    Both provider clients answer with it, before the step sender turns it into an outcome
    (``not_sent``). ``code`` is the provider's own error code where it gives one (Twilio's;
    SendGrid gives none); ``retry_after_s`` is how long the provider asked us to wait.
    """

    kind: TransientKind
    message: str
    code: str | None = None
    http_status: int | None = None
    retry_after_s: float | None = None


Answered = Accepted | Rejected
SendOutcome = Accepted | Rejected | Unavailable


class AmbiguousSend(Exception):
    """The request may have reached the provider (a timeout after sending): never resend.

    The step stays reserved; if it was sent, the provider's callback (which carries the
    step id) reports it. A possibly lost message is preferred to a certainly doubled one.
    """


def not_sent(
    provider: Provider, kind: str, message: str, retry_after_s: float | None
) -> Unavailable:
    """A provider's transient failure as the send's outcome: ``Unavailable``, except a
    ``timeout``, which may have reached the provider and so raises ``AmbiguousSend``."""
    if kind == "timeout":
        raise AmbiguousSend(f"{provider} timeout: {message}")
    return Unavailable(kind, f"{provider}: {message}", retry_after_s)
