"""Every message the scheduler can render, in every language it writes, passes the gate's
content rules: disclosures, opt-out wording and links, threats only where authorised.

The money messages of issue 11 (reminders, thank-yous, the missed-installment follow-up,
the settlement's confirmation) are held to the same rules, on each channel.

The scheduler and the gate never import each other; this test, above both, holds the
templates against the policy's phrase lists (a missing Chinese disclosure, say, would have
every zh_CN message blocked in production).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from dunning_core.contracts.common import Channel, MessageContent
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_gate.domain import EvaluationRequest, build_request, evaluate
from dunning_gate.domain.examples import EMAIL, PHONE, example_email_request, example_request
from dunning_gate.domain.examples import with_changes as gate_changes
from dunning_gate.domain.rules import RULES
from dunning_gate.domain.rules import content as content_rules
from dunning_gate.policy import default_policy as gate_policy
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case
from dunning_scheduler.domain.money import on_money
from dunning_scheduler.domain.planning import StepDraft, plan_due
from dunning_scheduler.domain.replies import on_reply
from dunning_scheduler.policy.loader import default_policy as scheduler_policy
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_testkit.money_events import (
    account_settled,
    installment_missed,
    plan_agreed,
    promise_made,
)
from dunning_testkit.scheduler import (
    IDENTITY,
    NOW,
    account_opened,
    consumer,
    debt,
    payment,
    rendered_ladder,
)

GATE = gate_policy()
SCHEDULER = scheduler_policy()
RENDERER = Renderer(IDENTITY)
# The rules that read a message's text: the content family of the rulebook.
CONTENT_RULES = {spec.rule_id for spec in RULES if spec.rule.__module__ == content_rules.__name__}


def gate_request(draft: StepDraft, content: MessageContent, state: str) -> dict[str, Any]:
    email = draft.channel == Channel.EMAIL
    base = example_email_request() if email else example_request()
    changes: dict[Any, Any] = {
        "step.stage": draft.stage.value,
        "step.is_first_communication": draft.first_communication,
        "step.destination": EMAIL if email else PHONE,
        "step.content": content.model_dump(mode="json", exclude_none=True),
        "debt.legal_action_authorized": True,
        "debt.ca_license_number": "CA-12345",
    }
    if state == "CA":
        changes.update({"consumer.state": "CA", "consumer.zip": "94105", "consumer.city": "SF"})
    return gate_changes(base, changes)


@pytest.mark.parametrize("locale", ["en_US", "es_US", "zh_CN"])
@pytest.mark.parametrize("state", ["NY", "CA"])
def test_every_rendered_message_passes_the_content_rules(locale: str, state: str) -> None:
    opened = account_opened(
        consumer_=consumer(state=state, locale=locale), debt_=debt(legal=True, licence="CA-12345")
    )
    case = reactions.on_account(None, opened, SCHEDULER, NOW)
    assert case is not None
    messages = rendered_ladder(case, SCHEDULER, RENDERER)
    assert len(messages) == 10
    for draft, content in messages:
        request = build_request(gate_request(draft, content, state), GATE)
        assert isinstance(request, EvaluationRequest), request
        decision = evaluate(request, GATE)
        blocked = CONTENT_RULES & set(decision.rule_ids)
        assert not blocked, (locale, draft.template, draft.channel, decision.outcomes)


@pytest.mark.parametrize("locale", ["en_US", "es_US", "zh_CN"])
@pytest.mark.parametrize("intent", ["pay", "plan", "bill_not_received"])
@pytest.mark.parametrize("address", [PHONE, EMAIL])
def test_every_reply_answer_passes_the_content_rules(
    locale: str, intent: str, address: str
) -> None:
    """The payment link, the plan offer and the details re-sent (issue 9), by sms and email."""
    opened = account_opened(consumer_=consumer(locale=locale, phone=PHONE, email=EMAIL))
    case = reactions.on_account(None, opened, SCHEDULER, NOW)
    assert case is not None
    case = replace(plan_due(case, SCHEDULER, NOW).case, contacted=True)
    channel = Channel.EMAIL if "@" in address else Channel.SMS
    event = ConsumerSignaled(
        account_id=case.account_id,
        signal_id=f"sig-{intent}",
        kind=SignalKind.REPLIED,
        channel=channel,
        address=address,
        source="email" if channel == Channel.EMAIL else "sms",
        occurred_at=NOW,
        details={"intent": intent},
    )
    reaction = on_reply(case, event, SCHEDULER, NOW)
    assert reaction is not None
    draft = reaction.draft
    assert draft is not None
    assert case.consumer is not None
    assert case.debt is not None
    content = RENDERER.render(draft, case.consumer, case.debt)
    request = build_request(gate_request(draft, content, "NY"), GATE)
    assert isinstance(request, EvaluationRequest), request
    decision = evaluate(request, GATE)
    blocked = CONTENT_RULES & set(decision.rule_ids)
    assert not blocked, (locale, draft.template, draft.channel, decision.outcomes)


def money_messages(case: Case, policy: EscalationPolicy) -> list[StepDraft]:
    """Every money message (issue 11): reminders, thank-yous, a follow-up, a confirmation."""
    drafts: list[StepDraft] = []
    for event in (
        promise_made(),
        plan_agreed(),
        payment(82_304, plan_id="PLAN-1", installments=[1]),
        installment_missed(seq=2),
        payment(0, payment_id="PAY-9"),
        account_settled(),
    ):
        reaction = on_money(case, event, policy, NOW)
        assert reaction is not None
        case, drafts = reaction.case, drafts + list(reaction.drafts)
    return drafts


@pytest.mark.parametrize("locale", ["en_US", "es_US", "zh_CN"])
@pytest.mark.parametrize("state", ["NY", "CA"])
@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
def test_every_money_message_passes_the_content_rules(
    locale: str, state: str, channel: Channel
) -> None:
    opened = account_opened(
        consumer_=consumer(state=state, locale=locale), debt_=debt(licence="CA-12345")
    )
    case = reactions.on_account(None, opened, SCHEDULER, NOW)
    assert case is not None
    case = replace(plan_due(case, SCHEDULER, NOW).case, contacted=True)
    plans = SCHEDULER.plans.model_copy(update={"channels": (channel,)})
    policy = SCHEDULER.model_copy(update={"plans": plans})
    drafts = money_messages(case, policy)
    assert {d.template for d in drafts} == SCHEDULER.plans.template_names()
    assert {d.channel for d in drafts} == {channel}
    assert case.consumer is not None
    assert case.debt is not None
    for draft in drafts:
        content = RENDERER.render(draft, case.consumer, case.debt)
        request = build_request(gate_request(draft, content, state), GATE)
        assert isinstance(request, EvaluationRequest), request
        decision = evaluate(request, GATE)
        blocked = CONTENT_RULES & set(decision.rule_ids)
        assert not blocked, (locale, draft.template, draft.channel, decision.outcomes)
