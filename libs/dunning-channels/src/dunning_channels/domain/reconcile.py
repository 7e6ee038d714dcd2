"""What asking the provider about a send of unknown outcome can answer, and what follows.

A step is in flight from its reservation until its outcome is recorded. One still in
flight a while later (``settle_s``: longer than any call) had its answer lost (a timeout
after the request left) or its worker died between the reservation and the record. The
provider is asked (Twilio's message list, SendGrid's Email Activity): ``Found`` → recorded
as accepted with the provider's id; ``NotFound`` → released and sent once; the question
failing (``LookupFailed``) is asked again until ``give_up_s``, after which the step is
reported uncertain (status accepted, error code ``uncertain``: maybe sent, so counted as
a contact and never re-planned), never resent blindly.
"""

from __future__ import annotations

from dataclasses import dataclass

UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Found:
    provider_message_id: str


@dataclass(frozen=True)
class NotFound:
    pass


@dataclass(frozen=True)
class LookupFailed:
    reason: str


Lookup = Found | NotFound | LookupFailed


@dataclass(frozen=True)
class ReconcilePolicy:
    """Wall seconds: in flight this long before the provider is asked, and since the
    first attempt until an unanswerable one is reported uncertain."""

    settle_s: float = 60.0
    give_up_s: float = 900.0
    retry_s: float = 30.0  # between two questions that failed


def gives_up(policy: ReconcilePolicy, *, first_attempt_at: float, now: float) -> bool:
    return now - first_attempt_at >= policy.give_up_s
