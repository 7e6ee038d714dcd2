"""The escalation policy: the default loads, anything invalid is refused with a clear reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dunning_core.contracts.common import Stage
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.policy.loader import PolicyError, default_policy, load_policy, parse_policy
from dunning_testkit.scheduler import IDENTITY

TEMPLATES = Renderer(IDENTITY).names
BASE = yaml.safe_dump(default_policy().model_dump(mode="json"))


def _with(**changes: object) -> str:
    raw = yaml.safe_load(BASE)
    raw.update(changes)
    return yaml.safe_dump(raw)


def _stage(index: int, **changes: object) -> str:
    raw = yaml.safe_load(BASE)
    raw["stages"][index].update(changes)
    return yaml.safe_dump(raw)


def test_default_policy_is_a_four_rung_ladder_with_templates_in_every_locale() -> None:
    policy = default_policy(TEMPLATES)
    assert [s.stage for s in policy.stages] == list(Stage)
    assert policy.template_names() <= TEMPLATES


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("stages: [", "not valid YAML"),
        ("- a list", "expected a mapping"),
        (_with(surprise=1), "surprise: Extra inputs are not permitted"),
        (_with(stages=[]), "stages: Tuple should have at least 1 item"),
        (_stage(3, requires_legal_authority=False), "must set requires_legal_authority"),
        (_stage(3, fallback=None), "needs a fallback"),
        (_stage(0, stage="formal_notice"), "the ladder must escalate"),
        (_stage(1, key="friendly_reminder"), "stage keys must be unique"),
        (_stage(0, channels=["sms", "sms"]), "channels must not repeat"),
        (_stage(0, channels=["fax"]), "stages.0.channels.0"),
        (_stage(0, retry_every_days=None), "retry_every_days is required"),
        (_stage(1, offset_days=-1), "stages.1.offset_days"),
        (_stage(0, templates=["no_such_template"]), "unknown templates no_such_template"),
        (
            _with(send_window={"start_hour": 9, "end_hour": 20, "preferred_hour": 21}),
            "preferred_hour must lie within",
        ),
    ],
)
def test_invalid_policies_are_refused_with_the_reason(document: str, message: str) -> None:
    with pytest.raises(PolicyError, match=r"invalid|YAML|mapping|unknown") as caught:
        parse_policy(document, source="p.yaml", templates=TEMPLATES)
    assert message in str(caught.value)
    assert str(caught.value).startswith("p.yaml: ")


def test_a_refusal_names_the_line_of_each_field() -> None:
    document = "name: p\nversion: '1'\nstages:\n  - key: a\n    stage: friendly_reminder\n"
    document += "    templates: [friendly_reminder]\n    channels: [sms]\n    offset_days: -3\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, source="p.yaml")
    assert "stages.0.offset_days: Input should be greater than or equal to 0 (line 8)" in str(
        caught.value
    )


def test_a_missing_field_points_at_its_parent() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("name: p\nversion: '1'\nstages:\n  - key: a\n", source="p.yaml")
    assert "stages.0.stage: Field required (line 4)" in str(caught.value)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_attempt_numbers_never_collide_between_stages_sharing_a_contract_stage() -> None:
    policy = default_policy()
    formal = policy.attempt_number(2, Stage.FORMAL_NOTICE, 1)
    fallback = policy.attempt_number(3, Stage.FORMAL_NOTICE, 1)
    assert (formal, fallback) == (1, 2)
    assert policy.attempt_number(0, Stage.FRIENDLY_REMINDER, 2) == 2


PLANS = (
    "name: p\nversion: '1'\nstages:\n  - key: a\n    stage: friendly_reminder\n"
    "    templates: [friendly_reminder]\n    channels: [sms]\n    offset_days: 0\n"
    "plans:\n  reminder_days_before: 3\n"
)


def test_the_default_plans_section_is_read() -> None:
    plans = default_policy(TEMPLATES).plans
    assert plans.resume_stage == "urgency"
    assert (plans.reminder_days_before, plans.promise_reminder_days_before) == (3, 1)
    assert plans.thank_payments
    assert plans.confirm_settlement
    assert plans.template_names() <= TEMPLATES


@pytest.mark.parametrize(
    ("plans", "message"),
    [
        ("  resume_stage: urgency\n", "plans.resume_stage: 'urgency' is not a stage key"),
        ("  reminder_days_before: -1\n", "plans.reminder_days_before: Input should be greater"),
        ("  channels: [sms, sms]\n", "plans.channels: Value error, channels must not repeat"),
        ("  thank_payments: maybe\n", "plans.thank_payments: Input should be a valid boolean"),
        ("  surprise: 1\n", "plans.surprise: Extra inputs are not permitted"),
    ],
)
def test_a_bad_plans_section_is_refused_at_its_line(plans: str, message: str) -> None:
    document = PLANS.replace("  reminder_days_before: 3\n", plans)
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, source="p.yaml", templates=TEMPLATES)
    assert message in str(caught.value)
    assert str(caught.value).endswith("(line 10)")


def test_an_unknown_plans_template_is_refused_at_the_plans_section() -> None:
    document = PLANS + "  payment_thanks_template: merci\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, source="p.yaml", templates=TEMPLATES)
    assert "unknown templates merci in plans (line 9)" in str(caught.value)
