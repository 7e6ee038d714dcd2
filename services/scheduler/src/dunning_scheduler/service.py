"""The scheduler's use cases: plan what is due, and apply what the other services report.

Both work a batch at a time inside one transaction: lock the rows, run the pure domain,
render, publish, write back, commit. Publishing comes before the commit, and that is safe:
if the commit fails after the publish, the rows were not advanced, the same cases are
planned again with the same step ids, the same ``send_at`` (the stored due instant) and
therefore the same ``ce_id`` (a ``step.planned.v1`` is identified by step id + send_at),
so every consumer recognises the second publication as a duplicate. The reverse order
could lose a step: committed as planned, never published.

Errors: ``apply`` never lets one bad event stall its batch; such events come back as
``Rejected`` for the handler to dead-letter. Infrastructure errors propagate, and the
caller retries the whole (idempotent) batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from dunning_core.contracts.common import Event
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import (
    AccountOpened,
    AccountUpdated,
    ConsumerSignaled,
    DeliveryUpdated,
    OutreachStep,
    StepDecided,
    StepPlanned,
)
from dunning_core.contracts.payments import PAYMENT_EVENTS
from dunning_core.runtime.clock import Clock

from dunning_scheduler.domain import holds, money, reactions, replies
from dunning_scheduler.domain.case import Case, StepRecord, StepStatus, still_wanted
from dunning_scheduler.domain.planning import StepDraft, plan_due
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_scheduler.ports import (
    CaseStore,
    CaseTransaction,
    MessageRenderer,
    Said,
    StepPublisher,
)

log = logging.getLogger(__name__)

HANDLED_EVENTS: tuple[type[Event], ...] = (
    AccountOpened,
    AccountUpdated,
    *PAYMENT_EVENTS,
    StepDecided,
    DeliveryUpdated,
    ConsumerSignaled,
)
# What a reaction changes: the case (None: unchanged), step records, and steps to publish
# (published at once when due; a later one waits in the step table for the planner).
Outcome = tuple[Case | None, list[StepRecord], list[OutreachStep]]


@dataclass(frozen=True)
class PlanResult:
    cases: int
    steps: int
    resumed: int = 0


@dataclass(frozen=True)
class Rejected:
    envelope: Envelope
    error: str


@dataclass
class ApplyResult:
    changed_cases: int = 0
    replans: int = 0
    ignored: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def outreach_step(draft: StepDraft, renderer: MessageRenderer, case: Case) -> OutreachStep:
    assert case.consumer is not None
    assert case.debt is not None
    content = renderer.render(draft, case.consumer, case.debt)
    return OutreachStep(
        step_id=draft.step_id, debt_id=draft.debt_id, stage=draft.stage, channel=draft.channel,
        attempt=draft.attempt, destination=draft.destination, send_at=draft.send_at,
        first_communication=draft.first_communication,
        content=content, content_hash=content.content_hash(),
    )  # fmt: skip


def step_record(
    case: Case,
    draft: StepDraft,
    step: OutreachStep,
    now: datetime,
    status: StepStatus = StepStatus.PLANNED,
) -> StepRecord:
    """How the scheduler remembers ``step``, rendered from ``draft`` for ``case`` at ``now``."""
    return StepRecord(case.account_id, draft.stage_key, step, now, draft.gap_after, status)


async def _together(*work: Coroutine[Any, Any, None]) -> None:
    """Run side by side; on a failure cancel the rest and raise the first error itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for coroutine in work:
                group.create_task(coroutine)
    except ExceptionGroup as errors:
        raise errors.exceptions[0] from errors


async def _save(
    tx: CaseTransaction,
    steps: Iterable[StepRecord],
    cases: Iterable[Case],
    *,
    progress: bool = False,
) -> None:
    await tx.save_steps(steps)
    await (tx.save_progress(cases) if progress else tx.save_cases(cases))


@dataclass(eq=False, repr=False)
class Scheduler:
    store: CaseStore
    publisher: StepPublisher
    renderer: MessageRenderer
    policy: EscalationPolicy
    clock: Clock

    def planned(self, step: OutreachStep, account_id: str, now: datetime) -> StepPlanned:
        return StepPlanned(
            account_id=account_id, step=step, planned_at=now, escalation_policy=self.policy.name
        )

    # --- the planner -------------------------------------------------------------------

    async def plan_due(self, limit: int) -> PlanResult:
        """Plan up to ``limit`` due cases: render, publish one step per channel, advance."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            resumed = await self._resume_promises(tx, now, limit)
            events, records = await self._release_deferred(tx, now, limit)
            due = await tx.lock_due(now, limit)
            if not due and not events and not records:
                return PlanResult(0, 0, resumed)
            advanced: list[Case] = []
            for case in due:
                planning = plan_due(case, self.policy, now)
                for draft in planning.drafts:
                    step = outreach_step(draft, self.renderer, case)
                    events.append((self.planned(step, case.account_id, now), None))
                    records.append(step_record(case, draft, step, now))
                advanced.append(planning.case)
            # Publish and write side by side; the commit waits for both (module docstring).
            await _together(
                self.publisher.publish(events), _save(tx, records, advanced, progress=True)
            )
        plans = sum(isinstance(event, StepPlanned) for event, _ in events)
        return PlanResult(len(due), plans, resumed)

    async def _release_deferred(
        self, tx: CaseTransaction, now: datetime, limit: int
    ) -> tuple[list[Said], list[StepRecord]]:
        """Deferred steps whose time has come go to the gate again, to be judged *now*.

        A re-plan is held here until its send time rather than published at once: the gate
        judges a step at the instant it sees it, so an early re-plan would only be deferred
        again. A step whose case was paused, resolved or moved on meanwhile is dropped (and
        withdrawn on the topic, if it was ever published).
        """
        held = await tx.lock_deferred_due(now, limit)
        if not held:
            return [], []
        cases = await tx.lock_cases(sorted({r.account_id for r in held}))
        events: list[Said] = []
        records: list[StepRecord] = []
        for record in held:
            case = cases.get(record.account_id)
            if case is not None and still_wanted(case, record.step_id):
                events.append((self.planned(record.step, record.account_id, now), None))
                records.append(replace(record, status=StepStatus.PLANNED))
            else:
                if record.status in holds.PUBLISHED:
                    events.append((holds.withdrawn(record, case, now), None))
                records.append(replace(record, status=StepStatus.DROPPED))
        return events, records

    async def _resume_promises(self, tx: CaseTransaction, now: datetime, limit: int) -> int:
        changed = [
            c
            for c in (
                reactions.on_promise_expired(case, now)
                for case in await tx.lock_promises_due(now, limit)
            )
            if c is not None
        ]
        await tx.save_cases(changed)
        return len(changed)

    # --- reactions to events -----------------------------------------------------------

    async def apply(self, envelopes: Sequence[Envelope]) -> ApplyResult:
        """Apply a batch of events in order, in one transaction; re-plans are published."""
        result = ApplyResult()
        if not envelopes:
            return result
        now = self.clock.now()
        account_ids = sorted({e.data.account_id for e in envelopes})
        step_ids = [
            e.data.step_id for e in envelopes if isinstance(e.data, StepDecided | DeliveryUpdated)
        ]
        async with self.store.transaction() as tx:
            cases = await tx.lock_cases(account_ids)
            steps = await tx.load_steps(step_ids)
            was = {step_id: record.status for step_id, record in steps.items()}
            changed_cases: dict[str, Case] = {}
            changed_steps: dict[str, StepRecord] = {}
            due: list[tuple[OutreachStep, Envelope]] = []
            said: list[Said] = []  # held or withdrawn: said once the batch is applied
            for envelope in envelopes:
                try:
                    outcome = self._react(envelope, cases, steps, now)
                except Exception as exc:  # a bug on this input: park it, keep the batch going
                    log.exception("event could not be applied", extra={"ce_id": envelope.id})
                    result.rejected.append(Rejected(envelope, f"{type(exc).__name__}: {exc}"))
                    continue
                if outcome is None:
                    result.ignored += 1
                    continue
                case, records, publish = outcome
                if case is not None:
                    cases[case.account_id] = changed_cases[case.account_id] = case
                for record in records:
                    steps[record.step_id] = changed_steps[record.step_id] = record
                # A step due already goes with this batch; a later one waits in the step
                # table for the planner.
                due += [(step, envelope) for step in publish if step.send_at <= now]
                if isinstance(envelope.data, DeliveryUpdated):  # an expiry re-planned later
                    said += [
                        (holds.held(steps[step.step_id], now), envelope.traceparent)
                        for step in publish
                        if step.send_at > now
                    ]
            replans: list[Said] = []
            for step, envelope in due:
                record = steps[step.step_id]
                if still_wanted(cases[record.account_id], step.step_id):
                    # The re-plan continues the trace of the event that made it.
                    replans.append(
                        (self.planned(step, envelope.subject, now), envelope.traceparent)
                    )
                    record = replace(record, status=StepStatus.PLANNED)
                else:  # a later event of the batch withdrew it (a plan broken, a dispute...)
                    record = replace(record, status=StepStatus.DROPPED)
                steps[step.step_id] = changed_steps[step.step_id] = record
            result.replans = len(replans)
            said += [
                (holds.withdrawn(r, cases.get(r.account_id), now), None)
                for r in changed_steps.values()
                if r.status == StepStatus.DROPPED and was.get(r.step_id) in holds.PUBLISHED
            ]
            await _together(
                self.publisher.publish(replans + said),
                _save(tx, changed_steps.values(), changed_cases.values()),
            )
        result.changed_cases = len(changed_cases)
        return result

    def _answer(
        self,
        case: Case,
        drafts: Sequence[StepDraft],
        now: datetime,
        status: StepStatus = StepStatus.PLANNED,
    ) -> Outcome:
        """Steps answering an event (a reply's payment link, a payment's thank-you, a plan's
        reminders), published with this batch as a re-plan is when due (``apply``); a later
        one is held in the step table (``status``) for the planner to release."""
        steps = [outreach_step(draft, self.renderer, case) for draft in drafts]
        records = [
            step_record(case, draft, step, now, status)
            for draft, step in zip(drafts, steps, strict=True)
        ]
        return case, records, steps

    def _react(
        self,
        envelope: Envelope,
        cases: dict[str, Case],
        steps: dict[str, StepRecord],
        now: datetime,
    ) -> Outcome | None:
        """What the event changes (``Outcome``), or None when nothing changes."""
        data = envelope.data
        policy = self.policy
        case = cases.get(data.account_id)
        if isinstance(data, AccountOpened | AccountUpdated):
            updated = reactions.on_account(case, data, policy, now)
            if updated is None:
                return None
            caught_up = money.on_snapshot(updated, policy, now)  # a plan that came first
            if caught_up is not None:
                return self._answer(caught_up.case, caught_up.drafts, now, StepStatus.SCHEDULED)
            return updated, [], []
        if isinstance(data, StepDecided | DeliveryUpdated):
            record = steps.get(data.step_id)
            if case is None or record is None or record.account_id != data.account_id:
                return None  # not a step of ours (or planned before this database existed)
            if isinstance(data, StepDecided):
                reaction = reactions.on_decision(case, record, data, now)
            else:
                reaction = reactions.on_delivery(case, record, data, policy, now)
            return (
                reaction.case if reaction.case is not case else None,
                [reaction.step] if reaction.step is not record else [],
                [reaction.replan] if reaction.replan is not None else [],
            )
        # Payments and signals may overtake the account itself (other topics): keep their
        # effect on a case that waits for its snapshot.
        base = case or Case(account_id=data.account_id, policy=policy.name, created_at=now)
        new: Case | None
        if isinstance(data, PAYMENT_EVENTS):
            followed = money.on_money(base, data, policy, now)
            if followed is None:
                return None  # applied already (a redelivery)
            return self._answer(followed.case, followed.drafts, now, StepStatus.SCHEDULED)
        if isinstance(data, ConsumerSignaled):
            answered = replies.on_reply(base, data, policy, now)
            if answered is not None and answered.draft is not None:
                return self._answer(answered.case, [answered.draft], now)
            new = answered.case if answered is not None else None
            new = new or reactions.on_signal(base, data, policy, now)
        else:
            return None
        if new is None or (new is base and case is not None):
            return None
        return new, [], []
