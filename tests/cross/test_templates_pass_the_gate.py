"""Every message the scheduler can render, in every language it writes, passes the gate's
content rules: disclosures, opt-out wording and links, threats only where authorised.

The scheduler and the gate never import each other; this test, above both, holds the
templates against the policy's phrase lists (a missing Chinese disclosure, say, would have
every zh_CN message blocked in production).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from dunning_core.contracts.common import Channel, MessageContent
from dunning_gate.domain import EvaluationRequest, build_request, evaluate
from dunning_gate.domain.examples import EMAIL, PHONE, example_email_request, example_request
from dunning_gate.domain.examples import with_changes as gate_changes
from dunning_gate.domain.rules import RULES
from dunning_gate.domain.rules import content as content_rules
from dunning_gate.policy import default_policy as gate_policy
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.domain import reactions
from dunning_scheduler.domain.case import Case
from dunning_scheduler.domain.planning import StepDraft, plan_due
from dunning_scheduler.policy.loader import default_policy as scheduler_policy
from dunning_testkit.scheduler import IDENTITY, NOW, account_opened, consumer, debt

GATE = gate_policy()
SCHEDULER = scheduler_policy()
RENDERER = Renderer(IDENTITY)
# The rules that read a message's text: the content family of the rulebook.
CONTENT_RULES = {spec.rule_id for spec in RULES if spec.rule.__module__ == content_rules.__name__}


def ladder(case: Case) -> list[tuple[StepDraft, MessageContent]]:
    rendered = []
    while case.next_step_at is not None:
        planning = plan_due(case, SCHEDULER, case.next_step_at)
        assert case.consumer is not None
        assert case.debt is not None
        rendered += [(d, RENDERER.render(d, case.consumer, case.debt)) for d in planning.drafts]
        case = replace(planning.case, contacted=True)
    return rendered


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
    messages = ladder(case)
    assert len(messages) == 10
    for draft, content in messages:
        request = build_request(gate_request(draft, content, state), GATE)
        assert isinstance(request, EvaluationRequest), request
        decision = evaluate(request, GATE)
        blocked = CONTENT_RULES & set(decision.rule_ids)
        assert not blocked, (locale, draft.template, draft.channel, decision.outcomes)
