"""The decisions of sending: may this approval go out, and what does an answer mean."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dunning_core.contracts.events import DeliveryStatus, OutreachStep

from dunning_channels.domain.outcomes import Accepted, Answered

CONTENT_HASH_MISMATCH = "content_hash_mismatch"
SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Refusal:
    """The approval is not sent; ``reason`` is reported as the delivery's error code."""

    reason: str


def admission(step: OutreachStep, *, suppressed: bool) -> Refusal | None:
    """Why ``step`` must not be sent, or None when it may be."""
    if step.content.content_hash() != step.content_hash:
        # What was vetted is what is sent: anything else is refused, never repaired.
        return Refusal(CONTENT_HASH_MISMATCH)
    if suppressed:
        return Refusal(SUPPRESSED)
    return None


def expired(send_by: datetime | None, now: datetime) -> bool:
    """Whether the window the gate approved the step in has closed: at ``send_by`` the step
    may no longer be sent (it goes back to the scheduler to be re-planned)."""
    return send_by is not None and now >= send_by


@dataclass(frozen=True)
class SendGuard:
    """How long before ``send_by`` a provider call may still start.

    A call and the provider's acceptance take wall time, ``call_s`` at worst (the call's
    timeout, or the provider's expected p99 latency); on a clock running ``speed`` times
    faster that is ``call_s * speed`` simulated seconds. ``floor`` covers the rest (the
    hops after the check, a scheduler's hiccup). A call that cannot finish before
    ``send_by`` is not started: the step expires and is re-planned."""

    call_s: float = 0.0
    speed: float = 1.0
    floor: timedelta = timedelta(0)

    @property
    def margin(self) -> timedelta:
        return timedelta(seconds=self.call_s * self.speed) + self.floor

    def widened(self, call_s: float) -> SendGuard:
        """This guard with at least ``call_s`` wall seconds allowed for the call (the
        calls' recent times, ``CallTimes``)."""
        return self if call_s <= self.call_s else replace(self, call_s=call_s)

    def too_late(self, send_by: datetime | None, now: datetime) -> bool:
        """Whether a call started at ``now`` may end after ``send_by``."""
        return send_by is not None and now + self.margin >= send_by

    def wall_left_s(self, send_by: datetime | None, now: datetime) -> float | None:
        """Wall seconds a call starting at ``now`` may take and still end (with the floor
        to spare) before ``send_by``: the bound of its timeout; None when unbounded."""
        if send_by is None:
            return None
        return max(0.0, (send_by - now - self.floor).total_seconds() / self.speed)


PENDING = "pending"  # what a reservation holds until the send's outcome is recorded


def concluded(reserved: str | None) -> bool:
    """Whether a step's record shows its send concluded (an id, a rejection, a failure):
    a parked retry of it that comes back (a lease ran out after it was done) is dropped."""
    return reserved is not None and reserved != PENDING


def already_sent(reserved: str | None) -> bool:
    """Whether a reservation attempt found the step taken: sent before, or a send was in
    flight when a worker died. Either way it is never sent twice."""
    return reserved is not None


@dataclass(frozen=True)
class Report:
    """What a provider's answer means: the status to publish and the record to keep."""

    status: DeliveryStatus
    provider_message_id: str | None
    error_code: str | None
    detail: str | None
    record_as: str
    opted_out: bool = False


def report_for(outcome: Answered) -> Report:
    if isinstance(outcome, Accepted):
        return Report(
            status=DeliveryStatus.ACCEPTED,
            provider_message_id=outcome.provider_message_id,
            error_code=None,
            detail=None,
            record_as=outcome.provider_message_id,
        )
    return Report(
        status=DeliveryStatus.REJECTED,
        provider_message_id=None,
        error_code=outcome.code,
        detail=outcome.message,
        record_as=f"rejected:{outcome.code}",
        opted_out=outcome.opted_out,
    )
