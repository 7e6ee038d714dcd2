"""Next-step planning: what a due case sends now, and when its following step falls due.

``plan_due`` turns a due case into step drafts (one per usable channel of its stage) and
the case advanced along the ladder. The send instant is the case's stored due instant, not
"now": replanning the same case after a crash yields the same steps at the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dunning_core.contracts.common import Channel, Money, Stage
from dunning_core.contracts.events import Consumer, Debt
from dunning_core.contracts.ids import step_id

from dunning_scheduler.domain import timing
from dunning_scheduler.domain.case import Case, PauseReason
from dunning_scheduler.domain.contacts import destination, reachable
from dunning_scheduler.domain.priority import priority_score
from dunning_scheduler.policy.model import EscalationPolicy, StagePolicy


@dataclass(frozen=True, slots=True)
class StepDraft:
    """A step decided by the domain, before its content is rendered."""

    step_id: str
    account_id: str
    debt_id: str
    stage_key: str
    stage: Stage
    template: str
    channel: Channel
    attempt: int
    destination: str
    send_at: datetime
    first_communication: bool
    legal_language: bool
    time_barred: bool
    gap_after: timedelta | None
    reply_by: date  # the "please contact us by" date the message offers
    # A money message's own amount and date (an installment, a promise, a payment).
    amount: Money | None = None
    on_date: date | None = None


@dataclass(frozen=True, slots=True)
class Planning:
    case: Case
    drafts: tuple[StepDraft, ...]


def time_barred(debt: Debt, at: datetime, consumer: Consumer, policy: EscalationPolicy) -> bool:
    """Known to be past its limitation date (unknown is *not* reported as barred here)."""
    if debt.limitation_date is None:
        return False
    zones = timing.candidate_zones(consumer, policy)
    return max(timing.local_date(at, z) for z in zones) >= debt.limitation_date


def reply_by_date(at: datetime, consumer: Consumer, policy: EscalationPolicy) -> date:
    """The "please contact us by" date of a message sent at ``at``: ``reply_by_days`` after
    its local date in the consumer's first candidate zone."""
    tz = timing.candidate_zones(consumer, policy)[0]
    return timing.local_date(at, tz) + timedelta(days=policy.reply_by_days)


def legal_language_allowed(
    debt: Debt, at: datetime, consumer: Consumer, policy: EscalationPolicy
) -> bool:
    """Authorised, and the limitation date known and comfortably ahead (never a bluff)."""
    if not debt.legal_action_authorized or debt.limitation_date is None:
        return False
    zones = timing.candidate_zones(consumer, policy)
    latest = max(timing.local_date(at, z) for z in zones)
    return latest + timedelta(days=policy.legal_margin_days) < debt.limitation_date


def first_due(consumer: Consumer, debt: Debt, policy: EscalationPolicy, now: datetime) -> datetime:
    """When a new case's first step falls due: the stage's own offset, else now (or, by
    policy, the next preferred local hour when now is outside the send window)."""
    zones = timing.candidate_zones(consumer, policy)
    first = policy.stages[0]
    if first.offset_from == "delinquency":
        anchor = debt.delinquent_since or debt.due_date
        due = timing.at_preferred_hour(
            anchor + timedelta(days=first.offset_days), zones[0], policy.send_window
        )
    else:
        due = (
            now
            if first.offset_days == 0
            else timing.days_later(now, first.offset_days, zones[0], policy.send_window)
        )
    if due > now:
        return due
    if policy.first_step == "now":
        return now
    return timing.first_send_at(now, zones, policy.send_window)


def _following(
    case: Case, consumer: Consumer, debt: Debt, policy: EscalationPolicy, sent_at: datetime
) -> tuple[int, int, datetime] | None:
    """(stage index, attempt, due instant) of the step after the current one, or None."""
    tz = timing.candidate_zones(consumer, policy)[0]
    window = policy.send_window
    current = policy.stages[case.stage_index]
    if case.attempt < current.max_attempts:
        assert current.retry_every_days is not None
        return (
            case.stage_index,
            case.attempt + 1,
            timing.days_later(sent_at, current.retry_every_days, tz, window),
        )
    index = case.stage_index + 1
    if index >= len(policy.stages):
        return None
    nxt = policy.stages[index]
    if nxt.offset_from == "previous":
        due = timing.days_later(sent_at, nxt.offset_days, tz, window)
    else:
        anchor = debt.delinquent_since or debt.due_date
        due = timing.at_preferred_hour(anchor + timedelta(days=nxt.offset_days), tz, window)
    earliest = timing.days_later(sent_at, policy.min_gap_days, tz, window)
    return index, 1, max(due, earliest, sent_at)


def _stage_and_template(
    stage_policy: StagePolicy, attempt: int, legal_ok: bool
) -> tuple[Stage, str]:
    """The contract stage and template of an attempt; the fallback when legal is not ok."""
    stage, templates = stage_policy.stage, stage_policy.templates
    if stage_policy.requires_legal_authority and not legal_ok:
        assert stage_policy.fallback is not None
        stage, templates = stage_policy.fallback.stage, stage_policy.fallback.templates
    return stage, templates[min(attempt, len(templates)) - 1]


def stage_step(
    case: Case,
    policy: EscalationPolicy,
    rung: tuple[int, int],
    channel: Channel,
    address: str,
    send_at: datetime,
    gap_after: timedelta | None = None,
) -> StepDraft:
    """The step of ``rung`` (stage index, attempt on it) to ``address`` at ``send_at``: the
    stage's template, or its fallback's when legal language may not be used then."""
    consumer, debt = case.consumer, case.debt
    # Only a case with its account's snapshot is planned (see plan_due, _answer).
    assert consumer is not None
    assert debt is not None
    index, attempt = rung
    stage_policy = policy.stages[index]
    legal_ok = legal_language_allowed(debt, send_at, consumer, policy)
    stage, template = _stage_and_template(stage_policy, attempt, legal_ok)
    number = policy.attempt_number(index, stage, attempt)
    return StepDraft(
        step_id=step_id(case.account_id, debt.debt_id, stage.value, channel.value, number),
        account_id=case.account_id,
        debt_id=debt.debt_id,
        stage_key=stage_policy.key,
        stage=stage,
        template=template,
        channel=channel,
        attempt=number,
        destination=address,
        send_at=send_at,
        first_communication=not case.contacted,
        legal_language=stage == Stage.LEGAL_WARNING,
        time_barred=time_barred(debt, send_at, consumer, policy),
        gap_after=gap_after,
        reply_by=reply_by_date(send_at, consumer, policy),
    )


def plan_due(case: Case, policy: EscalationPolicy, now: datetime) -> Planning:
    """Plan the due step of an active case and advance it (or pause it if unreachable)."""
    if case.consumer is None or case.debt is None or case.next_step_at is None:
        return Planning(case, ())
    if case.stage_index >= len(policy.stages):
        return Planning(replace(case, exhausted=True, next_step_at=None, updated_at=now), ())
    if not reachable(case):
        # Nothing can be sent on any channel: wait, on this same stage, for a usable address.
        reasons = case.pause_reasons | {PauseReason.NO_CHANNEL}
        return Planning(replace(case, pause_reasons=reasons, updated_at=now), ())
    consumer, debt = case.consumer, case.debt
    send_at = case.next_step_at
    following = _following(case, consumer, debt, policy, send_at)
    gap_after = following[2] - send_at if following is not None else None
    rung = (case.stage_index, case.attempt)
    drafts = []
    for channel in policy.stages[case.stage_index].channels:
        address = destination(case, channel)
        if address is not None:
            drafts.append(stage_step(case, policy, rung, channel, address, send_at, gap_after))
    advanced = replace(
        case,
        stage_index=following[0] if following else case.stage_index + 1,
        attempt=following[1] if following else 1,
        next_step_at=following[2] if following else None,
        exhausted=following is None,
        last_step_ids=tuple(d.step_id for d in drafts) or case.last_step_ids,
        last_planned_at=now,
        steps_planned=case.steps_planned + len(drafts),
        priority=priority_score(debt, now.date()),
        updated_at=now,
    )
    return Planning(advanced, tuple(drafts))
