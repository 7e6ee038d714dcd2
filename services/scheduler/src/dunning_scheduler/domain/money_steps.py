"""The messages a case sends about money, and the ones it still wants.

A money message (a reminder, a thank-you, a follow-up, a confirmation) is a draft placed
at the preferred local hour on the first usable channel of ``policy.plans.channels``. The
case remembers each with its purpose (``plan:<id>:<seq>``, ``promise:<id>``,
``thanks:<payment>``, ...), so a payment or the end of a plan withdraws the ones it makes
pointless; the planner drops a withdrawn one instead of sending it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dunning_core.contracts.common import Money, Stage
from dunning_core.contracts.ids import step_id

from dunning_scheduler.domain import reactions, timing
from dunning_scheduler.domain.case import MONEY_PAUSES, SETTLED, Case, PauseReason
from dunning_scheduler.domain.contacts import destination
from dunning_scheduler.domain.planning import StepDraft, reply_by_date, time_barred
from dunning_scheduler.policy.model import EscalationPolicy

STEPS_KEPT = 128  # money messages remembered per case, the oldest forgotten first


@dataclass(frozen=True, slots=True)
class MoneyReaction:
    case: Case
    drafts: tuple[StepDraft, ...] = ()


def zone(case: Case, policy: EscalationPolicy) -> ZoneInfo:
    if case.consumer is not None:
        return timing.candidate_zones(case.consumer, policy)[0]
    return timing.zone(policy.fallback_time_zone) or ZoneInfo("UTC")


def soon(case: Case, policy: EscalationPolicy, at: datetime) -> datetime:
    """The first good local instant from ``at`` (the event's own instant: deterministic)."""
    if case.consumer is None:
        return at
    zones = timing.candidate_zones(case.consumer, policy)
    return timing.first_send_at(at, zones, policy.send_window)


def draft(
    case: Case,
    policy: EscalationPolicy,
    purpose: str,
    template: str,
    send_at: datetime,
    amount: Money | None,
    on_date: date,
) -> StepDraft | None:
    """A money message on the first usable channel; None when it cannot or must not go.
    It speaks of ``amount`` (if any) and of ``on_date``, which every money message has."""
    consumer, debt = case.consumer, case.debt
    if consumer is None or debt is None or case.pause_reasons - MONEY_PAUSES:
        return None  # no snapshot yet, or disputed, ceased, represented...: nothing goes
    if case.resolved and not purpose.startswith(SETTLED):
        return None  # nothing is owed: only the settlement's confirmation
    for channel in policy.plans.channels:
        address = destination(case, channel)
        if address is None:
            continue
        return StepDraft(
            step_id=step_id(case.account_id, debt.debt_id, f"money:{purpose}", channel.value, 1),
            account_id=case.account_id,
            debt_id=debt.debt_id,
            stage_key=template,
            stage=Stage.FRIENDLY_REMINDER,
            template=template,
            channel=channel,
            attempt=1,
            destination=address,
            send_at=send_at,
            first_communication=not case.contacted,
            legal_language=False,
            time_barred=time_barred(debt, send_at, consumer, policy),
            gap_after=None,
            reply_by=reply_by_date(send_at, consumer, policy),
            amount=amount,
            on_date=on_date,
        )
    return None


def with_drafts(
    case: Case, drafted: Iterable[tuple[str, StepDraft | None]], now: datetime
) -> MoneyReaction:
    """Remember the drafts as wanted (with their purposes) and return them."""
    drafts = [(purpose, d) for purpose, d in drafted if d is not None]
    if not drafts:
        return MoneyReaction(case)
    wanted = (*case.money.steps, *((d.step_id, purpose) for purpose, d in drafts))
    money = replace(case.money, steps=wanted[-STEPS_KEPT:])
    return MoneyReaction(replace(case, money=money, updated_at=now), tuple(d for _, d in drafts))


def withdraw(case: Case, keep: Callable[[str], bool]) -> Case:
    """Withdraw the money messages whose purpose ``keep`` rejects (unsent ones are dropped)."""
    wanted = tuple((s, p) for s, p in case.money.steps if keep(p))
    if wanted == case.money.steps:
        return case
    return replace(case, money=replace(case.money, steps=wanted))


def not_of(subject: str) -> Callable[[str], bool]:
    """Keep what is not about ``subject`` (``plan:P1`` covers ``plan:P1:3``, not ``plan:P10``)."""
    return lambda purpose: purpose != subject and not purpose.startswith(subject + ":")


def resume(case: Case, policy: EscalationPolicy, reason: PauseReason | None, now: datetime) -> Case:
    """Lift ``reason`` and go on at the policy's resume stage, at the next good local hour.

    Never back down the ladder: a case already past that stage goes on from where it is, as
    re-planning a rung it sent would repeat that step's id (which every consumer drops).
    """
    reasons = case.pause_reasons - {reason} if reason is not None else case.pause_reasons
    lifted = reactions.with_reasons(case, reasons, now)
    index = policy.resume_index()
    if index > case.stage_index:
        lifted = replace(lifted, stage_index=index, attempt=1, exhausted=False)
    return replace(
        lifted,
        next_step_at=soon(case, policy, now) if not lifted.exhausted else None,
        promise_until=None if reason is PauseReason.PROMISED_TO_PAY else case.promise_until,
        updated_at=now,
    )


def balance(case: Case, remaining: Money, debt_id: str) -> Case:
    debt = case.debt
    if debt is None or debt.debt_id != debt_id:
        return case
    return replace(case, debt=debt.model_copy(update={"balance": remaining}))
