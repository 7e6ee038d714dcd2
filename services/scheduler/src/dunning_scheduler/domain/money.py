"""How a case follows the account's money (payments.v1): the plan is followed through.

- A plan agreed pauses the ladder (``PauseReason.PLAN``) and schedules a reminder some days
  before each installment; a payment toward installments withdraws their reminders.
- A promise made pauses the ladder until the day after its date and schedules a reminder.
- A payment is thanked (once), a missed installment followed up, a settlement confirmed.
- A plan or promise broken, or a settlement lapsed, lifts its pause and escalation resumes at
  the policy's stage; a plan completed lifts its pause and, with nothing owed, the case is
  resolved: a kept plan never escalates. A reopened account resumes at the policy's stage.

Messages are drafts, placed at the preferred local hour on the first usable channel of
``policy.plans.channels``; the gate vets them like any step. Every event is applied once:
its ``ce_id`` (derived from its natural key) is remembered on the case, so a redelivered
event changes nothing and sends nothing twice. Pure: no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from dunning_core.contracts.common import Event, Money
from dunning_core.contracts.payments import (
    AccountReopened,
    AccountSettled,
    CreditRecorded,
    InstallmentMissed,
    PaymentReceived,
    PaymentReversed,
    PlanAgreed,
    PlanBroken,
    PlanCompleted,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    SettlementAgreed,
    SettlementLapsed,
)

from dunning_scheduler.domain import money_steps as messages
from dunning_scheduler.domain import reactions, timing
from dunning_scheduler.domain.case import SEEN_KEPT, SETTLED, Case, PauseReason
from dunning_scheduler.domain.money_steps import MoneyReaction
from dunning_scheduler.domain.planning import StepDraft
from dunning_scheduler.policy.model import EscalationPolicy


def on_money(
    case: Case, event: Event, policy: EscalationPolicy, now: datetime
) -> MoneyReaction | None:
    """The reaction to one payments.v1 event; None when it was applied already."""
    key = event.default_event_id()
    if key in case.money.seen:
        return None
    react = _REACTIONS.get(type(event))
    if react is None:
        return None
    reaction: MoneyReaction = react(case, event, policy, now)
    new = reaction.case
    seen = (*new.money.seen, key)[-SEEN_KEPT:]
    return replace(reaction, case=replace(new, money=replace(new.money, seen=seen)))


# --- payments ----------------------------------------------------------------------------


def _payment(
    case: Case, event: PaymentReceived, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    paid = reactions.on_payment(case, event, now)
    if event.remaining_balance.amount_minor <= 0:
        # Settled: AccountSettled brings the confirmation; no reminder has a purpose now.
        return MoneyReaction(messages.withdraw(paid, lambda _: False))
    if event.plan_id is not None:
        # Their reminders, and a follow-up of one missed that waits for its hour.
        done = {
            f"plan:{event.plan_id}:{kind}{seq}"
            for seq in event.installments
            for kind in ("", "missed:")
        }
        paid = messages.withdraw(paid, lambda purpose: purpose not in done)
    if not policy.plans.thank_payments or event.amount.amount_minor <= 0:
        return MoneyReaction(paid)
    tz = messages.zone(paid, policy)
    thanks = messages.draft(
        paid,
        policy,
        f"thanks:{event.payment_id}",
        policy.plans.payment_thanks_template,
        messages.soon(paid, policy, event.received_at),
        amount=event.amount,
        on_date=timing.local_date(event.received_at, tz),
    )
    return messages.with_drafts(paid, [(f"thanks:{event.payment_id}", thanks)], now)


def _reversal(
    case: Case, event: PaymentReversed, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    note = f"payment {event.payment_id} reversed ({event.reason})"
    changed = messages.balance(case, event.remaining_balance, event.debt_id)
    return MoneyReaction(replace(changed, note=note, updated_at=now))


def _credit(
    case: Case, event: CreditRecorded, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    note = f"credit {event.credit.amount_minor} {event.credit.currency} ({event.payment_id})"
    return MoneyReaction(replace(case, note=note, updated_at=now))


# --- plans -------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule_of(event: PlanAgreed) -> list[tuple[int, date, Money]]:
    """(seq, due date, amount) of every installment: the schedule the ledger sent, else
    (an older producer) the regular installment from the first due date on."""
    if event.schedule:
        return [(i.seq, i.due_on, i.amount) for i in event.schedule]
    days = {"weekly": 7, "biweekly": 14}.get(event.frequency or "monthly")
    return [
        (
            n + 1,
            event.first_due + timedelta(days=days * n) if days else _add_months(event.first_due, n),
            event.instalment,
        )
        for n in range(event.instalments)
    ]


def on_snapshot(case: Case, policy: EscalationPolicy, now: datetime) -> MoneyReaction | None:
    """The reminders of a plan or promise that came before the account's snapshot, planned
    now that it is here (unless that plan or promise has ended meanwhile)."""
    if case.consumer is None or not case.money.pending:
        return None
    caught_up = replace(case, money=replace(case.money, pending=()))
    drafts: list[StepDraft] = []
    for event in case.money.pending:
        if isinstance(event, PlanAgreed) and caught_up.money.plan_id == event.plan_id:
            reaction = _plan(caught_up, event, policy, now)
        elif isinstance(event, PromiseMade) and caught_up.money.promise_id == event.promise_id:
            reaction = _promise(caught_up, event, policy, now)
        else:
            continue
        caught_up, drafts = reaction.case, [*drafts, *reaction.drafts]
    return MoneyReaction(caught_up, tuple(drafts))


def _waiting(case: Case, event: PlanAgreed | PromiseMade) -> Case:
    """Keep a plan or promise for the snapshot to come (the latest of each kind)."""
    kept = tuple(e for e in case.money.pending if type(e) is not type(event))
    return replace(case, money=replace(case.money, pending=(*kept, event)))


def _plan(case: Case, event: PlanAgreed, policy: EscalationPolicy, now: datetime) -> MoneyReaction:
    paused = reactions.on_plan(case, event, now)
    if case.money.plan_id not in (None, event.plan_id):
        paused = messages.withdraw(paused, messages.not_of(f"plan:{case.money.plan_id}"))
    paused = replace(paused, money=replace(paused.money, plan_id=event.plan_id))
    if paused.consumer is None:
        return MoneyReaction(_waiting(paused, event))
    tz = messages.zone(paused, policy)
    before = timedelta(days=policy.plans.reminder_days_before)
    drafts = []
    for seq, due_on, amount in schedule_of(event):
        at = timing.at_preferred_hour(due_on - before, tz, policy.send_window)
        if at <= now:
            continue  # too late for a reminder: the installment is (almost) due
        purpose = f"plan:{event.plan_id}:{seq}"
        template = policy.plans.installment_reminder_template
        reminder = messages.draft(paused, policy, purpose, template, at, amount, due_on)
        drafts.append((purpose, reminder))
    return messages.with_drafts(paused, drafts, now)


def _missed(
    case: Case, event: InstallmentMissed, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    note = f"installment {event.seq} of plan {event.plan_id} missed ({event.missed_count})"
    noted = replace(case, note=note, updated_at=now)
    if noted.resolved or noted.money.plan_id not in (None, event.plan_id):
        return MoneyReaction(noted)  # an older plan's installment
    owed = event.amount_due.amount_minor - event.amount_paid.amount_minor
    purpose = f"plan:{event.plan_id}:missed:{event.seq}"
    follow_up = messages.draft(
        noted,
        policy,
        purpose,
        policy.plans.plan_missed_template,
        messages.soon(noted, policy, event.detected_at),
        Money(amount_minor=max(owed, 0), currency=event.amount_due.currency),
        event.due_on,
    )
    return messages.with_drafts(noted, [(purpose, follow_up)], now)


def _plan_broken(
    case: Case, event: PlanBroken, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    known = messages.balance(case, event.remaining_balance, event.debt_id)
    note = f"plan {event.plan_id} broken ({event.missed_count} missed)"
    newer = known.money.plan_id not in (None, event.plan_id)
    return _broken(known, policy, f"plan:{event.plan_id}", newer, PauseReason.PLAN, note, now)


def _broken(
    case: Case,
    policy: EscalationPolicy,
    subject: str,
    newer: bool,
    reason: PauseReason,
    note: str,
    now: datetime,
) -> MoneyReaction:
    """A plan or promise broken: its messages withdrawn and, unless a newer one holds the
    case or it is resolved, its pause lifted and escalation resumed at the policy's stage."""
    broken = messages.withdraw(case, messages.not_of(subject))
    if newer or broken.resolved:
        return MoneyReaction(replace(broken, note=note, updated_at=now))
    resumed = messages.resume(broken, policy, reason, now)
    money = (
        replace(resumed.money, plan_id=None)
        if reason is PauseReason.PLAN
        else replace(resumed.money, promise_id=None)
    )
    return MoneyReaction(replace(resumed, money=money, note=note + ": escalation resumes"))


def _plan_completed(
    case: Case, event: PlanCompleted, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    ended = messages.withdraw(case, messages.not_of(f"plan:{event.plan_id}"))
    if ended.money.plan_id not in (None, event.plan_id):
        return MoneyReaction(ended)
    lifted = reactions.with_reasons(ended, ended.pause_reasons - {PauseReason.PLAN}, now)
    lifted = replace(lifted, money=replace(lifted.money, plan_id=None), updated_at=now)
    owed = lifted.debt is not None and lifted.debt.balance.amount_minor > 0
    if owed:
        return MoneyReaction(replace(lifted, note=f"plan {event.plan_id} completed, balance left"))
    note = f"plan {event.plan_id} completed"
    return MoneyReaction(replace(lifted, resolved=True, next_step_at=None, note=note))


# --- promises and settlements ------------------------------------------------------------


def _promise(
    case: Case, event: PromiseMade, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    old = case.money.promise_id
    made = case
    if old not in (None, event.promise_id):
        made = messages.withdraw(case, messages.not_of(f"promise:{old}"))
    made = replace(
        reactions.with_reasons(made, made.pause_reasons | {PauseReason.PROMISED_TO_PAY}, now),
        promise_until=reactions.promise_ends(made, event.due_on, policy, now),
        money=replace(made.money, promise_id=event.promise_id),
        note=f"promise {event.promise_id} to pay by {event.due_on.isoformat()}",
        updated_at=now,
    )
    if made.consumer is None:
        return MoneyReaction(_waiting(made, event))
    before = timedelta(days=policy.plans.promise_reminder_days_before)
    tz = messages.zone(made, policy)
    at = timing.at_preferred_hour(event.due_on - before, tz, policy.send_window)
    if at <= now:
        return MoneyReaction(made)
    purpose = f"promise:{event.promise_id}"
    template = policy.plans.promise_reminder_template
    reminder = messages.draft(made, policy, purpose, template, at, event.amount, event.due_on)
    return messages.with_drafts(made, [(purpose, reminder)], now)


def _promise_kept(
    case: Case, event: PromiseKept, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    """The reminder is withdrawn; the pause runs to its date as a promise's always did."""
    kept = messages.withdraw(case, messages.not_of(f"promise:{event.promise_id}"))
    if kept.money.promise_id == event.promise_id:
        kept = replace(kept, money=replace(kept.money, promise_id=None))
    return MoneyReaction(replace(kept, note=f"promise {event.promise_id} kept", updated_at=now))


def _promise_broken(
    case: Case, event: PromiseBroken, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    note = f"promise {event.promise_id} broken"
    newer = case.money.promise_id not in (None, event.promise_id)
    reason = PauseReason.PROMISED_TO_PAY
    return _broken(case, policy, f"promise:{event.promise_id}", newer, reason, note, now)


def _settlement(
    case: Case, event: SettlementAgreed, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    """A settlement to pay by a date holds the ladder like a promise, until the day after."""
    paused = reactions.with_reasons(case, case.pause_reasons | {PauseReason.PROMISED_TO_PAY}, now)
    until = reactions.promise_ends(paused, event.pay_by, policy, now)
    note = f"settlement {event.settlement_id} agreed, to pay by {event.pay_by.isoformat()}"
    return MoneyReaction(replace(paused, promise_until=until, note=note, updated_at=now))


def _settlement_lapsed(
    case: Case, event: SettlementLapsed, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    """Unpaid by its date: the offer is void and escalation resumes, as for a broken promise
    (unless a promise made since holds the case)."""
    known = messages.balance(case, event.remaining_balance, event.debt_id)
    note = f"settlement {event.settlement_id} lapsed"
    newer = known.money.promise_id is not None
    reason = PauseReason.PROMISED_TO_PAY
    return _broken(known, policy, f"settlement:{event.settlement_id}", newer, reason, note, now)


# --- the account ---------------------------------------------------------------------------


def _settled(
    case: Case, event: AccountSettled, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    """Resolved for good (until reopened): nothing else planned, a confirmation sent."""
    done = messages.withdraw(case, lambda _: False)
    done = reactions.with_reasons(
        done, done.pause_reasons - {PauseReason.PLAN, PauseReason.PROMISED_TO_PAY}, now
    )
    done = replace(
        done,
        resolved=True,
        next_step_at=None,
        promise_until=None,
        money=replace(done.money, plan_id=None, promise_id=None),
        note=f"settled ({event.how}, {event.by_payment_id})",
        updated_at=now,
    )
    if not policy.plans.confirm_settlement:
        return MoneyReaction(done)
    purpose = f"{SETTLED}{event.by_payment_id}"
    confirmation = messages.draft(
        done,
        policy,
        purpose,
        policy.plans.settled_thanks_template,
        messages.soon(done, policy, event.settled_at),
        amount=None,
        on_date=timing.local_date(event.settled_at, messages.zone(done, policy)),
    )
    return messages.with_drafts(done, [(purpose, confirmation)], now)


def _reopened(
    case: Case, event: AccountReopened, policy: EscalationPolicy, now: datetime
) -> MoneyReaction:
    reopened = messages.withdraw(case, lambda purpose: not purpose.startswith(SETTLED))
    reopened = messages.balance(reopened, event.remaining_balance, event.debt_id)
    reopened = replace(reopened, resolved=False)
    resumed = messages.resume(reopened, policy, None, now)
    note = f"reopened: payment {event.by_payment_id} reversed"
    return MoneyReaction(reactions.settle(replace(resumed, note=note), now))


_REACTIONS: dict[type[Event], Callable[..., MoneyReaction]] = {
    PaymentReceived: _payment,
    PaymentReversed: _reversal,
    CreditRecorded: _credit,
    PlanAgreed: _plan,
    InstallmentMissed: _missed,
    PlanBroken: _plan_broken,
    PlanCompleted: _plan_completed,
    PromiseMade: _promise,
    PromiseKept: _promise_kept,
    PromiseBroken: _promise_broken,
    SettlementAgreed: _settlement,
    SettlementLapsed: _settlement_lapsed,
    AccountSettled: _settled,
    AccountReopened: _reopened,
}
