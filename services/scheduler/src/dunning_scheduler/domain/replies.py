"""What a consumer's plain reply (``REPLIED``, with the classifier's ``details["intent"]``)
does to a case: a step answering it, a moved follow-up, or only a note.

- ``pay``: a step with the payment link (template ``policy.payment_link_template``);
- ``plan``: the policy's plan offer (``policy.plan_offer_template``);
- ``bill_not_received``: the current stage's message again;
- ``think_time``: the next step moved to the policy's deadline (``think_time_days``);
  never silence: the ladder goes on from there;
- ``call_me``, ``unknown`` and the rest: nothing paused, the reply noted on the case. The
  ledger, which owns agent tasks and the communication log, opens the call-back or review
  task for a person from the same signal (ARCHITECTURE.md); the scheduler asks for nothing.

An answering step goes to the contact point that replied when it is one of the
consumer's own and still usable, else to the channel's usual address. Its id derives
from the signal's, so a redelivered signal makes the same step (and is ignored here).
Pure: no I/O; ``reactions.on_signal`` handles every other signal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_core.contracts.ids import step_id

from dunning_scheduler.domain import timing
from dunning_scheduler.domain.case import Case
from dunning_scheduler.domain.contacts import channel_of, destination, normal_address
from dunning_scheduler.domain.planning import StepDraft, stage_step
from dunning_scheduler.policy.model import EscalationPolicy

ANSWERED_INTENTS = frozenset({"pay", "plan", "bill_not_received"})


@dataclass(frozen=True, slots=True)
class ReplyReaction:
    case: Case
    draft: StepDraft | None = None


def intent_of(event: ConsumerSignaled) -> str | None:
    if event.kind is not SignalKind.REPLIED:
        return None
    return event.details.get("intent") or "unknown"


def on_reply(
    case: Case, event: ConsumerSignaled, policy: EscalationPolicy, now: datetime
) -> ReplyReaction | None:
    """The reaction to a ``REPLIED`` signal; None when it is not one, or changes nothing."""
    intent = intent_of(event)
    if intent is None:
        return None
    if intent == "think_time":
        return _think_time(case, policy, now)
    if intent in ANSWERED_INTENTS:
        draft = _answer(case, event, intent, policy, now)
        if draft is not None:
            noted = replace(
                case,
                last_step_ids=(*case.last_step_ids, draft.step_id),
                note=f"reply '{intent}': {draft.template} sent by {draft.channel.value}",
                updated_at=now,
            )
            return ReplyReaction(noted, draft)
    # call_me, unknown (or an answer with nowhere to go): recorded, nothing paused; the
    # ledger opens the agent task for call_me and unknown.
    queued = " (an agent task in the ledger's queue)" if intent in ("call_me", "unknown") else ""
    note = f"reply '{intent}' recorded{queued}"
    if case.note == note:
        return None
    return ReplyReaction(replace(case, note=note, updated_at=now))


def _think_time(case: Case, policy: EscalationPolicy, now: datetime) -> ReplyReaction | None:
    if case.consumer is None or case.next_step_at is None or case.resolved:
        return None
    zones = timing.candidate_zones(case.consumer, policy)
    deadline = timing.days_later(now, policy.think_time_days, zones[0], policy.send_window)
    note = f"asked for time to think: follow-up at {deadline.isoformat()}"
    if case.next_step_at == deadline and case.note == note:
        return None
    return ReplyReaction(replace(case, next_step_at=deadline, note=note, updated_at=now))


def _reply_address(case: Case, event: ConsumerSignaled) -> tuple[Channel, str] | None:
    """The contact point that replied, if it is the consumer's own and usable; else the
    usual address of that channel."""
    consumer = case.consumer
    if consumer is None:
        return None
    channel = event.channel or (channel_of(event.address) if event.address else Channel.SMS)
    usual = destination(case, channel)
    if usual is None:
        return None  # opted out of that channel, or nothing usable on it
    if event.address:
        replied = normal_address(event.address)
        own = [p.number for p in consumer.phones] + [str(e.address) for e in consumer.emails]
        for address in own:
            if normal_address(address) == replied and replied not in case.bad_addresses:
                return channel, address
    return channel, usual


def _current_template(case: Case, policy: EscalationPolicy) -> tuple[int, int]:
    """(stage index, attempt) of the step last planned (the first one if none was)."""
    if case.steps_planned == 0:
        return 0, 1
    if case.attempt > 1:
        return case.stage_index, case.attempt - 1
    index = min(max(case.stage_index - 1, 0), len(policy.stages) - 1)
    return index, policy.stages[index].max_attempts


def _answer(
    case: Case, event: ConsumerSignaled, intent: str, policy: EscalationPolicy, now: datetime
) -> StepDraft | None:
    consumer, debt = case.consumer, case.debt
    if consumer is None or debt is None or case.resolved or case.pause_reasons:
        return None
    target = _reply_address(case, event)
    if target is None:
        return None
    channel, address = target
    sid = step_id(case.account_id, debt.debt_id, f"reply:{event.signal_id}", channel.value, 1)
    if sid in case.last_step_ids:
        return None  # this reply was answered already (a redelivered signal)
    # The step the case is on, sent now to the address that replied; pay and plan answers
    # with their own template.
    step = stage_step(case, policy, _current_template(case, policy), channel, address, now)
    templates = {"pay": policy.payment_link_template, "plan": policy.plan_offer_template}
    return replace(step, step_id=sid, template=templates.get(intent, step.template))
