"""How a case reacts to what the rest of the system tells it.

Every reaction is a pure function returning the new case (and step); it *sets* state
rather than counting, so applying the same event twice, or replaying a suffix of an
account's events in order, ends in the same state. Reactions return ``None`` when the
event changes nothing (an older account revision, a stale deferral or approval)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dunning_core.contracts import events as ev
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated, SignalKind

from dunning_scheduler.domain import late_decisions as late
from dunning_scheduler.domain import timing
from dunning_scheduler.domain.case import Case, PauseReason, StepRecord, StepStatus, still_wanted
from dunning_scheduler.domain.contacts import channel_of, normal_address, reachable
from dunning_scheduler.domain.planning import first_due
from dunning_scheduler.domain.priority import priority_score
from dunning_scheduler.policy.model import EscalationPolicy

# A deferral without an instant (the gate could not decide): try again after this long.
RETRY_UNDECIDED = timedelta(minutes=15)

_OPT_OUT_SIGNALS = {SignalKind.OPTED_OUT, SignalKind.UNSUBSCRIBED, SignalKind.SPAM_REPORTED}
_PAUSING_SIGNALS = {
    SignalKind.DISPUTED: PauseReason.DISPUTED,
    SignalKind.CEASE_REQUESTED: PauseReason.CEASE_REQUESTED,
    SignalKind.ATTORNEY_REPRESENTED: PauseReason.ATTORNEY_REPRESENTED,
    SignalKind.BANKRUPTCY_FILED: PauseReason.BANKRUPTCY_FILED,
    SignalKind.DECEASED: PauseReason.DECEASED,
    SignalKind.OUTREACH_PAUSED: PauseReason.OPERATOR,
}
# Gate rule ids (COMPLIANCE.md) whose block concerns the status of the consumer or debt.
STATUS_RULES = {
    "dispute.pending": PauseReason.DISPUTED,
    "state.ma.dispute": PauseReason.DISPUTED,
    "cease.requested": PauseReason.CEASE_REQUESTED,
    "attorney.represented": PauseReason.ATTORNEY_REPRESENTED,
    "bankruptcy.stay": PauseReason.BANKRUPTCY_FILED,
    "deceased": PauseReason.DECEASED,
}  # not operator.paused: a block decided before a resume may arrive after it
# Blocks that end the use of a whole channel, and those about one address only.
CHANNEL_RULES = {"optout.channel", "state.nyc.econsent"}
ADDRESS_RULES = {"medium.restricted", "tcpa.consent", "address.basis", "email.workplace"}
# Provider codes after which a number or address is not worth trying again.
HARD_FAILURE_CODES = {"21211", "21610", "21612", "21614", "30004", "30005", "30006"}
_HARD_STATUSES = {DeliveryStatus.BOUNCED, DeliveryStatus.DROPPED}
_SOFT_STATUSES = {DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED, DeliveryStatus.REJECTED}
_REACHED = {DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED}


@dataclass(frozen=True, slots=True)
class StepReaction:
    case: Case
    step: StepRecord
    replan: ev.OutreachStep | None = None


def settle(case: Case, now: datetime) -> Case:
    """Keep ``NO_CHANNEL`` true to the contacts, and bring a resumed case's due time to now."""
    if case.consumer is None:
        return case
    reasons = case.pause_reasons
    if reachable(case):
        reasons = reasons - {PauseReason.NO_CHANNEL}
    else:
        reasons = reasons | {PauseReason.NO_CHANNEL}
    return with_reasons(case, reasons, now)


def with_reasons(case: Case, reasons: frozenset[PauseReason], now: datetime) -> Case:
    """The case paused for exactly ``reasons`` (resumed, it goes now, not in the past)."""
    if reasons == case.pause_reasons:
        return case
    next_step_at = case.next_step_at
    if not reasons and next_step_at is not None and next_step_at < now:
        next_step_at = now  # resumed after its due time: go now, not in a burst of old steps
    return replace(case, pause_reasons=reasons, next_step_at=next_step_at, updated_at=now)


# --- accounts.v1 -----------------------------------------------------------------------


def on_account(
    case: Case | None,
    event: ev.AccountOpened | ev.AccountUpdated,
    policy: EscalationPolicy,
    now: datetime,
) -> Case | None:
    """Create or refresh the case from the ledger's snapshot; older revisions are ignored.

    The first step is scheduled once, when the case first gets a snapshot: a replayed or
    repeated AccountOpened finds the same revision and changes nothing.
    """
    if case is not None and event.revision <= case.revision:
        return None
    base = case or Case(account_id=event.account_id, policy=policy.name, created_at=now)
    updated = replace(
        base,
        revision=event.revision,
        consumer=event.consumer,
        debt=event.debt,
        priority=priority_score(event.debt, now.date()),
        updated_at=now,
    )
    if updated.next_step_at is None and updated.steps_planned == 0 and not updated.exhausted:
        updated = replace(updated, next_step_at=first_due(event.consumer, event.debt, policy, now))
    if event.debt.balance.amount_minor <= 0:
        updated = replace(updated, resolved=True, note="balance is zero")
    return settle(updated, now)


# --- payments.v1 -----------------------------------------------------------------------


def on_payment(case: Case, event: ev.PaymentReceived, now: datetime) -> Case:
    """A payment in full resolves the case; a partial one updates the balance we quote."""
    debt = case.debt
    if debt is not None and event.debt_id == debt.debt_id:
        debt = debt.model_copy(update={"balance": event.remaining_balance})
    paid_off = event.remaining_balance.amount_minor <= 0
    note = (
        f"paid in full ({event.payment_id})"
        if paid_off
        else f"partial payment {event.amount.amount_minor} {event.amount.currency} "
        f"({event.payment_id}); remaining {event.remaining_balance.amount_minor}"
    )
    return replace(
        case,
        debt=debt,
        resolved=case.resolved or paid_off,
        next_step_at=None if paid_off else case.next_step_at,
        last_payment_id=event.payment_id,
        note=note,
        updated_at=now,
    )


def on_plan(case: Case, event: ev.PlanAgreed, now: datetime) -> Case:
    """A payment plan pauses escalation."""
    paused = with_reasons(case, case.pause_reasons | {PauseReason.PLAN}, now)
    return replace(paused, note=f"plan {event.plan_id} agreed", updated_at=now)


# --- consumer.signals.v1 ---------------------------------------------------------------


def promised_date(event: ev.ConsumerSignaled) -> date | None:
    raw = event.details.get("date")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def on_signal(
    case: Case, event: ev.ConsumerSignaled, policy: EscalationPolicy, now: datetime
) -> Case | None:
    kind = event.kind
    channel = event.channel or (channel_of(event.address) if event.address else None)
    if kind in _OPT_OUT_SIGNALS:
        if channel is None:
            return None
        dropped = replace(
            case, opted_out_channels=case.opted_out_channels | {channel}, updated_at=now
        )
        return settle(dropped, now)
    if kind == SignalKind.OPTED_IN:
        if channel is None:
            return None
        restored = replace(
            case, opted_out_channels=case.opted_out_channels - {channel}, updated_at=now
        )
        return settle(restored, now)
    if kind == SignalKind.MEDIUM_RESTRICTED:
        if event.address:
            changed = replace(
                case, bad_addresses=case.bad_addresses | {normal_address(event.address)}
            )
        elif channel is not None:
            changed = replace(case, opted_out_channels=case.opted_out_channels | {channel})
        else:
            return None
        return settle(replace(changed, updated_at=now), now)
    if kind in _PAUSING_SIGNALS:
        return with_reasons(case, case.pause_reasons | {_PAUSING_SIGNALS[kind]}, now)
    if kind in (SignalKind.DISPUTE_VERIFIED, SignalKind.OUTREACH_RESUMED):  # only its own pause
        ended = {SignalKind.DISPUTE_VERIFIED: PauseReason.DISPUTED}.get(kind, PauseReason.OPERATOR)
        return with_reasons(case, case.pause_reasons - {ended}, now)
    if kind == SignalKind.PROMISED_TO_PAY:
        return replace(
            with_reasons(case, case.pause_reasons | {PauseReason.PROMISED_TO_PAY}, now),
            promise_until=promise_ends(case, promised_date(event), policy, now),
        )
    return None


def promise_ends(
    case: Case, promised: date | None, policy: EscalationPolicy, now: datetime
) -> datetime:
    """The day after the promised date (or the default span) at the preferred local hour."""
    if case.consumer is None:
        tz = timing.zone(policy.fallback_time_zone) or timing.zone("UTC")
    else:
        tz = timing.candidate_zones(case.consumer, policy)[0]
    assert tz is not None
    if promised is None:
        promised = timing.local_date(now, tz) + timedelta(days=policy.promise_default_days - 1)
    return timing.at_preferred_hour(promised + timedelta(days=1), tz, policy.send_window)


def on_promise_expired(case: Case, now: datetime) -> Case | None:
    """Resume a case whose promise to pay passed unpaid."""
    if PauseReason.PROMISED_TO_PAY not in case.pause_reasons:
        return None
    if case.promise_until is not None and case.promise_until > now:
        return None
    resumed = with_reasons(case, case.pause_reasons - {PauseReason.PROMISED_TO_PAY}, now)
    return replace(resumed, promise_until=None, note="promise to pay passed", updated_at=now)


# --- outreach.decisions.v1 -------------------------------------------------------------


def not_before_of(event: ev.StepDecided) -> datetime | None:
    if event.not_before is not None:
        return event.not_before
    instants = [f.not_before for f in event.findings if f.not_before is not None]
    return max(instants, default=None)


def on_decision(
    case: Case, record: StepRecord, event: ev.StepDecided, now: datetime
) -> StepReaction:
    if event.decision == ev.Decision.ALLOW:
        if late.answers_an_older_plan(record, event):  # not the plan in force's answer
            again = (
                late.plan_again_after_replay(record, now)
                if late.replays_an_older_approval(record, event)
                else None
            )
            return StepReaction(case, record) if again is None else StepReaction(case, *again)
        if record.status in (StepStatus.PLANNED, StepStatus.DEFERRED):
            record = replace(record, status=StepStatus.ALLOWED, rule_ids=())
        return StepReaction(case, record)
    if event.decision == ev.Decision.DEFER:
        return _on_defer(case, record, event, now)
    return _on_block(case, record, event, now)


def _on_defer(case: Case, record: StepRecord, event: ev.StepDecided, now: datetime) -> StepReaction:
    """Re-plan the same step (same id, same content) for the gate's ``not_before``."""
    not_before = not_before_of(event) or now + RETRY_UNDECIDED
    rules = tuple(f.rule_id for f in event.findings)
    if not_before <= record.step.send_at:
        return StepReaction(case, record)  # an older decision: already re-planned past it
    if not still_wanted(case, record.step_id):
        # Paused, resolved, or a later step superseded it: drop it rather than send late.
        return StepReaction(case, replace(record, status=StepStatus.DROPPED, rule_ids=rules))
    step = record.step.model_copy(update={"send_at": not_before})
    record = replace(
        record, step=step, status=StepStatus.DEFERRED, rule_ids=rules, replans=record.replans + 1
    )
    if record.gap_after is not None and case.next_step_at is not None:
        # Keep the planned spacing to the following step rather than crowding it.
        keep_gap = not_before + record.gap_after
        if keep_gap > case.next_step_at:
            case = replace(case, next_step_at=keep_gap, updated_at=now)
    return StepReaction(case, record, replan=step)


def _on_block(case: Case, record: StepRecord, event: ev.StepDecided, now: datetime) -> StepReaction:
    blocks = [f.rule_id for f in event.findings if f.action == "block"]
    record = replace(record, status=StepStatus.BLOCKED, rule_ids=tuple(blocks))
    reasons = case.pause_reasons | {STATUS_RULES[r] for r in blocks if r in STATUS_RULES}
    channels = case.opted_out_channels
    addresses = case.bad_addresses
    if any(r in CHANNEL_RULES for r in blocks):
        channels = channels | {record.step.channel}
    if any(r in ADDRESS_RULES for r in blocks):
        addresses = addresses | {normal_address(record.step.destination)}
    if channels != case.opted_out_channels or addresses != case.bad_addresses:
        case = replace(case, opted_out_channels=channels, bad_addresses=addresses, updated_at=now)
    case = settle(with_reasons(case, reasons, now), now)
    return StepReaction(case, record)


# --- delivery.v1 -----------------------------------------------------------------------


def _on_expired(
    case: Case, record: StepRecord, event: DeliveryUpdated, policy: EscalationPolicy, now: datetime
) -> StepReaction:
    """The approval lapsed before sending (nothing went out): handled like a deferral.

    The same step (same id, same content) is re-planned for the next allowed instant, about
    now, and the gate decides again. It is no failed attempt and wears no address out; the
    following rung keeps its spacing after the re-sent step rather than overtaking it.
    """
    if record.status not in (StepStatus.PLANNED, StepStatus.ALLOWED):
        return StepReaction(case, record)  # deferred, scheduled, blocked, dropped or sent
    expired = DeliveryStatus.EXPIRED.value
    if record.delivery_status == expired and event.occurred_at <= record.step.send_at:
        return StepReaction(case, record)  # this expiry was re-planned already (a repeat)
    if not still_wanted(case, record.step_id):
        dropped = replace(record, status=StepStatus.DROPPED, delivery_status=expired)
        return StepReaction(case, dropped)
    zones = (
        timing.candidate_zones(case.consumer, policy)
        if case.consumer is not None
        else (timing.zone(policy.fallback_time_zone) or timing.zone("UTC"),)
    )
    after = max(now, event.occurred_at)
    send_at = timing.first_send_at(
        after, tuple(z for z in zones if z is not None), policy.send_window
    )
    step = record.step.model_copy(update={"send_at": send_at})
    record = replace(
        record,
        step=step,
        status=StepStatus.DEFERRED,
        delivery_status=expired,
        replans=record.replans + 1,
    )
    if record.gap_after is not None and case.next_step_at is not None:
        keep_gap = send_at + record.gap_after
        if keep_gap > case.next_step_at:
            case = replace(case, next_step_at=keep_gap, updated_at=now)
    return StepReaction(case, record, replan=step)


def _hard(event: DeliveryUpdated) -> bool:
    if event.status in _HARD_STATUSES:
        return True
    return event.error_code is not None and event.error_code.strip() in HARD_FAILURE_CODES


def on_delivery(
    case: Case,
    record: StepRecord,
    event: DeliveryUpdated,
    policy: EscalationPolicy,
    now: datetime,
) -> StepReaction:
    """Successes mark the consumer as contacted; failures wear an address out."""
    status = event.status
    if status == DeliveryStatus.EXPIRED:
        return _on_expired(case, record, event, policy, now)
    address = normal_address(record.step.destination)
    step_status = {
        DeliveryStatus.ACCEPTED: StepStatus.SENT,
        DeliveryStatus.SENT: StepStatus.SENT,
        DeliveryStatus.DELIVERED: StepStatus.DELIVERED,
    }.get(status, StepStatus.FAILED)
    if status == DeliveryStatus.REFUSED:
        step_status = StepStatus.FAILED  # our own worker refused: nothing about the address
    # A late "sent" must not overwrite "delivered".
    if not (record.status == StepStatus.DELIVERED and step_status == StepStatus.SENT):
        record = replace(record, status=step_status, delivery_status=status.value)
    if status in _REACHED:
        failures = {a: s for a, s in case.soft_failures.items() if a != address}
        if not case.contacted or failures != case.soft_failures:
            case = replace(case, contacted=True, soft_failures=failures, updated_at=now)
        return StepReaction(case, record)
    if status == DeliveryStatus.REFUSED:
        return StepReaction(case, record)
    if _hard(event):
        dropped = replace(
            case,
            bad_addresses=case.bad_addresses | {address},
            note=f"stopped using a {record.step.channel.value} address: {status.value}"
            + (f" {event.error_code}" if event.error_code else ""),
            updated_at=now,
        )
        return StepReaction(settle(dropped, now), record)
    if status in _SOFT_STATUSES:
        seen = case.soft_failures.get(address, ())
        if record.step_id in seen:
            return StepReaction(case, record)
        failed = (*seen, record.step_id)
        case = replace(case, soft_failures={**case.soft_failures, address: failed}, updated_at=now)
        if len(failed) >= policy.soft_failures_to_drop:
            case = replace(case, bad_addresses=case.bad_addresses | {address})
            case = settle(case, now)
    return StepReaction(case, record)
