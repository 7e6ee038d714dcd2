"""Decisions that do not answer the plan in force of a re-planned step (pure).

A re-planned step (after a deferral or an expiry) goes to the gate at its ``send_at``, so
the gate's answer to it is decided after that. An allow decided earlier is one of two:

- the answer to a former plan, arriving late (decisions and deliveries are two topics, a
  redelivered batch replays both): it says nothing about the plan in force;
- the gate answering the plan in force with the approval it gave a former plan (its
  state, rebuilt, had lost that approval's expiry). That approval's ``send_by`` is past:
  the worker expires it under the expiry id already seen, which dedupe drops, and the
  step would wait for ever. It is planned again a little later, when the gate has the
  expiry; a bounded number of times.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from dunning_core.contracts.events import OutreachStep, StepDecided, StepPlanned

from dunning_scheduler.domain.case import StepRecord, StepStatus

CLOCK_TOLERANCE = timedelta(minutes=5)  # how far two services' clocks may differ
REPLAY_RETRY = timedelta(minutes=30)
MAX_REPLANS = 12


def answers_an_older_plan(record: StepRecord, event: StepDecided) -> bool:
    """Whether ``event`` was decided before the plan in force was released to the gate."""
    return record.replans > 0 and event.decided_at + CLOCK_TOLERANCE < record.step.send_at


def replays_an_older_approval(record: StepRecord, event: StepDecided) -> bool:
    """Whether ``event`` is an old approval given again to the plan in force."""
    current = StepPlanned(
        account_id=record.account_id, step=record.step, planned_at=event.decided_at
    )
    return answers_an_older_plan(record, event) and (
        event.planned_event_id == current.default_event_id()
    )


def plan_again_after_replay(
    record: StepRecord, now: datetime
) -> tuple[StepRecord, OutreachStep] | None:
    """The step planned again ``REPLAY_RETRY`` from now (None once that was tried enough)."""
    if record.status != StepStatus.PLANNED or record.replans >= MAX_REPLANS:
        return None
    step = record.step.model_copy(update={"send_at": now + REPLAY_RETRY})
    return replace(record, step=step, status=StepStatus.DEFERRED, replans=record.replans + 1), step
