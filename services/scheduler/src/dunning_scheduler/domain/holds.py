"""What the scheduler says of a step it will not send now (``step.held.v1``,
``step.withdrawn.v1``): pure builders of those events from the step's record.

Only steps others have seen are spoken of: a step published once (planned, allowed,
deferred). A money message held since it was drafted (``scheduled``) was never published,
and its withdrawal concerns nobody else.
"""

from __future__ import annotations

from datetime import datetime

from dunning_core.contracts.events import StepHeld, StepPlanned, StepWithdrawn

from dunning_scheduler.domain.case import Case, StepRecord, StepStatus

PUBLISHED = frozenset({StepStatus.PLANNED, StepStatus.ALLOWED, StepStatus.DEFERRED})


def held(record: StepRecord, now: datetime) -> StepHeld:
    """An expired step held until its re-plan's ``send_at``."""
    step = record.step
    return StepHeld(
        account_id=record.account_id, step_id=step.step_id, debt_id=step.debt_id,
        channel=step.channel, attempt=step.attempt, send_at=step.send_at, reason="expired",
        held_at=now,
    )  # fmt: skip


def withdrawn(record: StepRecord, case: Case | None, now: datetime) -> StepWithdrawn:
    step = record.step
    return StepWithdrawn(
        account_id=record.account_id, step_id=step.step_id, debt_id=step.debt_id,
        channel=step.channel, attempt=step.attempt, reason=why_dropped(case, step.step_id),
        withdrawn_at=now,
    )  # fmt: skip


def why_dropped(case: Case | None, step_id: str) -> str:
    """Why a step is no longer wanted (``case.still_wanted`` said no), in a few words."""
    if case is None:
        return "no case"
    if case.resolved:
        return "resolved"
    if case.money.purpose_of(step_id) is None and step_id not in case.last_step_ids:
        return "moved on"
    if case.pause_reasons:
        return "paused: " + ", ".join(sorted(str(r) for r in case.pause_reasons))
    return "withdrawn"


def said_at(event: StepPlanned | StepHeld | StepWithdrawn) -> datetime:
    """When the scheduler said it (the envelope's ``ce_time``)."""
    if isinstance(event, StepPlanned):
        return event.planned_at
    return event.held_at if isinstance(event, StepHeld) else event.withdrawn_at
