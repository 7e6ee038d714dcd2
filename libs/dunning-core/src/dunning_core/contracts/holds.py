"""What the scheduler did with a step it planned and will not send now: held for later, or
withdrawn. Both travel on ``outreach.planned.v1`` beside the plans, keyed by the account.

A re-plan due at once is a plan (``step.planned.v1``); a deferral by the gate is said by the
gate's decision (``step.decided.v1`` with ``not_before``). What the scheduler decides on its
own was said nowhere before these: an approval that lapsed before it was sent (``expired``)
and is held until the send window next opens, and a step dropped because its case was paused,
resolved or had moved on. A subscriber that follows a step (the ledger's log, an audit, the
chaos checker) reads them as the step's last word until its next plan.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from dunning_core.contracts.common import Channel, Event, Instant

HeldReason = Literal["expired"]
"""Why a step waits: ``expired``, its approval lapsed before it could be sent."""


class _ScheduledStep(Event):
    """The step the scheduler speaks of (its plan carries the rest)."""

    topic: ClassVar[str] = "outreach.planned.v1"

    step_id: str
    debt_id: str
    channel: Channel
    attempt: int = Field(ge=1)


class StepHeld(_ScheduledStep):
    """Sent when the scheduler holds a step until ``send_at``: its plan follows then (the
    same step id and content), unless the step is withdrawn meanwhile."""

    event_type: ClassVar[str] = "step.held.v1"

    send_at: Instant = Field(description="When the step is planned again (UTC).")
    reason: HeldReason
    held_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        # Held again for a later instant is a new fact; a replay is not.
        return (self.step_id, self.send_at.isoformat())


class StepWithdrawn(_ScheduledStep):
    """Sent when the scheduler drops a step it had planned: nothing more is sent for it."""

    event_type: ClassVar[str] = "step.withdrawn.v1"

    reason: str = Field(
        min_length=1,
        max_length=200,
        description="Why: 'resolved', 'paused: <reasons>', 'moved on' (a later step "
        "superseded it) or 'withdrawn' (a money message its arrangement no longer wants).",
    )
    withdrawn_at: Instant

    def natural_key(self) -> tuple[object, ...]:
        return (self.step_id, "withdrawn")


HOLD_EVENTS: tuple[type[Event], ...] = (StepHeld, StepWithdrawn)
