"""A consumer's plain reply changes their next step as its intent says (issue 9): pay → the
payment link, plan → the plan offer, bill_not_received → the current message again to the
contact point that replied, think_time → a follow-up at the policy's deadline, call_me /
unknown → nothing paused, noted; promise and dispute still pause."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dunning_core import paylink
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import ConsumerSignaled, Event, SignalKind
from dunning_core.runtime.clock import FixedClock
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case, CaseStatus, PauseReason
from dunning_scheduler.domain.planning import plan_due
from dunning_scheduler.domain.replies import on_reply
from dunning_scheduler.policy.loader import default_policy
from dunning_scheduler.service import Scheduler
from dunning_testkit.scheduler import (
    IDENTITY,
    NOW,
    MemoryCaseStore,
    RecordingPublisher,
    account_opened,
    signal,
)

POLICY = default_policy()
PHONE = "+12125550100"
EMAIL = "ana.garcia@example.com"


def reply(
    intent: str, *, address: str = PHONE, signal_id: str | None = None, **more: str
) -> ConsumerSignaled:
    channel = Channel.EMAIL if "@" in address else Channel.SMS
    event = signal(
        SignalKind.REPLIED,
        channel=channel,
        details={"intent": intent, **more},
        signal_id=signal_id or f"SM-{intent}",
    )
    return event.model_copy(update={"address": address})


def contacted_case() -> Case:
    case = reactions.on_account(None, account_opened(), POLICY, NOW)
    assert case is not None
    planned = plan_due(case, POLICY, NOW).case  # the first stage went out
    return planned


@pytest.mark.parametrize(("intent", "template"), [("pay", "payment_link"), ("plan", "plan_offer")])
def test_pay_and_plan_are_answered_with_their_template_where_the_reply_came_from(
    intent: str, template: str
) -> None:
    later = NOW + timedelta(hours=2)
    reaction = on_reply(contacted_case(), reply(intent, address=EMAIL), POLICY, later)
    assert reaction is not None
    draft = reaction.draft
    assert draft is not None
    assert (draft.template, draft.channel, draft.destination) == (template, Channel.EMAIL, EMAIL)
    assert draft.send_at == later
    assert draft.step_id in reaction.case.last_step_ids
    assert reaction.case.status is CaseStatus.ACTIVE


def test_bill_not_received_sends_the_current_stage_message_again_to_that_number() -> None:
    case = contacted_case()
    reaction = on_reply(case, reply("bill_not_received"), POLICY, NOW + timedelta(hours=1))
    assert reaction is not None
    assert reaction.draft is not None
    first_template = POLICY.stages[0].templates[0]
    assert (reaction.draft.template, reaction.draft.destination) == (first_template, PHONE)
    assert reaction.draft.channel is Channel.SMS


def test_a_redelivered_reply_is_answered_once() -> None:
    first = on_reply(contacted_case(), reply("pay"), POLICY, NOW)
    assert first is not None
    assert first.draft is not None
    again = on_reply(first.case, reply("pay"), POLICY, NOW)
    assert again is None or again.draft is None


def test_think_time_moves_the_next_step_to_the_policys_deadline_never_silence() -> None:
    case = contacted_case()
    reaction = on_reply(case, reply("think_time"), POLICY, NOW)
    assert reaction is not None
    assert reaction.draft is None
    moved = reaction.case.next_step_at
    assert moved is not None
    assert timedelta(days=POLICY.think_time_days - 1) < moved - NOW
    assert moved - NOW < timedelta(days=POLICY.think_time_days + 1)
    assert reaction.case.status is CaseStatus.ACTIVE


@pytest.mark.parametrize("intent", ["call_me", "unknown"])
def test_call_me_and_unknown_pause_nothing_but_are_recorded(intent: str) -> None:
    case = contacted_case()
    reaction = on_reply(case, reply(intent), POLICY, NOW)
    assert reaction is not None
    assert reaction.draft is None
    assert reaction.case.next_step_at == case.next_step_at
    assert reaction.case.status is CaseStatus.ACTIVE
    assert intent in (reaction.case.note or "")


def test_an_opted_out_channel_gets_no_answer_there() -> None:
    case = contacted_case()
    stopped = reactions.on_signal(
        case, signal(SignalKind.OPTED_OUT, channel=Channel.SMS), POLICY, NOW
    )
    assert stopped is not None
    reaction = on_reply(stopped, reply("pay"), POLICY, NOW)
    assert reaction is None or reaction.draft is None


def test_promise_and_dispute_still_pause() -> None:
    case = contacted_case()
    promised = reactions.on_signal(case, signal(SignalKind.PROMISED_TO_PAY), POLICY, NOW)
    disputed = reactions.on_signal(case, signal(SignalKind.DISPUTED), POLICY, NOW)
    assert promised is not None
    assert disputed is not None
    assert promised.pause_reasons == {PauseReason.PROMISED_TO_PAY}
    assert disputed.pause_reasons == {PauseReason.DISPUTED}
    assert on_reply(promised, reply("pay"), POLICY, NOW) is not None


def envelope(event: Event) -> Envelope:
    return wrap(event, "test", time=NOW)


async def test_the_scheduler_publishes_the_answer_at_once() -> None:
    store, publisher = MemoryCaseStore(), RecordingPublisher()
    scheduler = Scheduler(store, publisher, Renderer(IDENTITY), POLICY, FixedClock(NOW))
    await scheduler.apply([envelope(account_opened())])
    await scheduler.plan_due(500)
    before = len(publisher.steps)
    result = await scheduler.apply([envelope(reply("pay"))])
    assert result.replans == 1
    [answer] = publisher.steps[before:]
    assert answer.step.destination == PHONE
    # the payment link: the page's token names the account and this step
    [token] = re.findall(r"/p/([A-Za-z0-9_-]+)", answer.step.content.body)
    link = paylink.verify(token, IDENTITY.paylink_key, answer.step.send_at)
    assert link == ("ACC-1", answer.step.step_id)
    await scheduler.apply([envelope(reply("pay"))])  # redelivered
    assert len(publisher.steps) == before + 1
