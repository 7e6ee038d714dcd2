from __future__ import annotations

from datetime import datetime

import pytest
from dunning_core.contracts import ALL_EVENTS, MessageContent, Money, step_id
from dunning_core.contracts.events import OutreachStep, PhoneContact, StepApproved
from dunning_core.contracts.topics import ALL_TOPICS, events_on, topics_of
from pydantic import ValidationError

from .factories import account_opened, step_planned


def test_every_event_has_a_versioned_type_and_a_known_topic() -> None:
    types = [e.event_type for e in ALL_EVENTS]
    assert len(types) == len(set(types))
    for event in ALL_EVENTS:
        assert event.event_type.endswith(".v1")
        assert (event.__doc__ or "").startswith("Sent when"), event.__name__
        assert set(topics_of(event)) <= set(ALL_TOPICS)


def test_every_topic_carries_at_least_one_event() -> None:
    for topic in ALL_TOPICS:
        assert events_on(topic), topic


def test_models_are_frozen() -> None:
    event = account_opened()
    with pytest.raises(ValidationError):
        event.revision = 2  # type: ignore[misc]


def test_times_must_carry_an_offset() -> None:
    with pytest.raises(ValidationError, match="UTC offset"):
        account_opened().model_copy(update={}).model_validate(
            {**account_opened().model_dump(), "opened_at": datetime(2026, 1, 1, 9, 0)}
        )


def test_phone_numbers_must_be_e164() -> None:
    with pytest.raises(ValidationError, match=r"E\.164"):
        PhoneContact(number="415-555-0100")


def test_currency_must_be_iso_4217() -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money(amount_minor=100, currency="usd")


def test_unknown_fields_are_ignored_so_v1_can_grow() -> None:
    raw = {**account_opened().model_dump(mode="json"), "added_later": 1}
    assert type(account_opened()).model_validate(raw) == account_opened()


def test_content_hash_changes_with_any_byte_of_content() -> None:
    a = MessageContent(body="Pay $10. Reply STOP to opt out.")
    b = MessageContent(body="Pay $11. Reply STOP to opt out.")
    c = MessageContent(body="Pay $10. Reply STOP to opt out.", headers={"X": "1"})
    assert a.content_hash() == MessageContent(body=a.body).content_hash()
    assert len({a.content_hash(), b.content_hash(), c.content_hash()}) == 3


def test_step_ids_are_deterministic_and_distinct() -> None:
    base = step_id("acc-1", "debt-1", "urgency", "sms", 1)
    assert base == step_id("acc-1", "debt-1", "urgency", "sms", 1)
    others = {
        step_id("acc-2", "debt-1", "urgency", "sms", 1),
        step_id("acc-1", "debt-2", "urgency", "sms", 1),
        step_id("acc-1", "debt-1", "formal_notice", "sms", 1),
        step_id("acc-1", "debt-1", "urgency", "email", 1),
        step_id("acc-1", "debt-1", "urgency", "sms", 2),
    }
    assert base not in others
    assert len(others) == 5


def test_step_id_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError, match="attempt"):
        step_id("acc-1", "debt-1", "urgency", "sms", 0)


def test_replayed_plan_has_the_same_event_id_but_a_replan_does_not() -> None:
    first = step_planned()
    assert first.default_event_id() == step_planned().default_event_id()
    later = first.model_copy(
        update={
            "step": first.step.model_copy(
                update={"send_at": datetime.fromisoformat("2026-03-03T15:00:00+00:00")}
            )
        }
    )
    assert later.default_event_id() != first.default_event_id()


def test_the_approval_of_a_replan_is_a_new_event_but_a_replayed_approval_is_not() -> None:
    """A worker skips an approval whose id it has handled: the approval of a step re-planned
    after an expiry must not look like the first one (it was dropped as a duplicate and
    never sent: 688 steps in the chaos short form)."""
    plan = step_planned()
    later = plan.step.model_copy(
        update={"send_at": datetime.fromisoformat("2026-03-04T15:00:00+00:00")}
    )

    def approval(step: OutreachStep, send_by: str) -> StepApproved:
        return StepApproved(
            account_id=plan.account_id, step=step, approved_at=step.send_at,
            policy_version="test", send_by=datetime.fromisoformat(send_by),
        )  # fmt: skip

    first = approval(plan.step, "2026-03-03T23:00:00+00:00")
    replayed = approval(plan.step, "2026-03-03T23:00:00+00:00")
    again = approval(later, "2026-03-05T01:00:00+00:00")
    assert replayed.default_event_id() == first.default_event_id()
    assert again.default_event_id() != first.default_event_id()
