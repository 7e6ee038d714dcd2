"""The texts the sms ingress answers with (opt-out and opt-in confirmations, the HELP reply)
are not collection contacts: they never pass the gate (nothing counts them against a cap),
so their content is vetted here instead, once per language, with the gate's content rules.
"""

from __future__ import annotations

import pytest
from dunning_core.contracts.common import MessageContent
from dunning_gate.domain import EvaluationRequest, build_request, evaluate
from dunning_gate.domain.examples import example_request
from dunning_gate.domain.examples import with_changes as gate_changes
from dunning_gate.domain.rules import RULES
from dunning_gate.domain.rules import content as content_rules
from dunning_gate.policy import default_policy as gate_policy
from dunning_replies.answers import ANSWERED, LANGUAGES, answer_for

GATE = gate_policy()
CONTENT_RULES = {spec.rule_id for spec in RULES if spec.rule.__module__ == content_rules.__name__}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent", sorted(ANSWERED))
def test_every_answer_passes_the_content_rules(language: str, intent: str) -> None:
    answer = answer_for(intent, language, creditor="Acme Recovery", contact="1-800-555-0199")
    assert answer is not None
    assert answer.language == language
    content = MessageContent(body=answer.text)
    changes = {
        "step.stage": "friendly_reminder",
        "step.is_first_communication": False,
        "step.content": content.model_dump(mode="json", exclude_none=True),
    }
    request = build_request(gate_changes(example_request(), changes), GATE)
    assert isinstance(request, EvaluationRequest), request
    decision = evaluate(request, GATE)
    rules = CONTENT_RULES
    if answer.kind == "opt_out_confirmation":
        # It tells how to opt back in (START), not how to opt out: the number just did.
        rules = rules - {"content.optout_notice"}
        assert "START" in answer.text
    blocked = rules & set(decision.rule_ids)
    assert not blocked, (intent, language, decision.outcomes)
