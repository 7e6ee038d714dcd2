"""Sequence rules: validation notice and period (business days, federal holidays) and
Nevada's medical-debt wait."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from dunning_gate.domain.business_days import (
    add_business_days,
    is_business_day,
    validation_period_end,
)
from dunning_gate.domain.examples import living_at
from dunning_gate.policy import default_policy
from dunning_testkit.gate_rules import decide

POLICY = default_policy()
NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
AUTHORISED_WARNING = {
    "step.stage": "legal_warning",
    "debt.legal_action_authorized": True,
    "step.content.body": "This message is from a debt collector. We may file a lawsuit. "
    "https://pay.example.com/r/abc Reply STOP to opt out.",
}


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2025, 7, 4), False),  # Independence Day
        (date(2025, 7, 5), False),  # Saturday
        (date(2025, 7, 7), True),
        (date(2025, 11, 27), False),  # Thanksgiving
        (date(2026, 7, 3), False),  # Independence Day observed (the 4th is a Saturday)
        (date(2025, 6, 19), False),  # Juneteenth
    ],
)
def test_business_days_exclude_weekends_and_federal_holidays(day: date, business: bool) -> None:
    assert is_business_day(day) is business


def test_assumed_receipt_skips_the_fourth_of_july() -> None:
    # Sent Monday 30 June: Tue 1, Wed 2, Thu 3, (Fri 4 holiday), Mon 7, Tue 8.
    assert add_business_days(date(2025, 6, 30), 5) == date(2025, 7, 8)


def test_validation_period_ends_30_days_after_assumed_receipt_in_every_zone() -> None:
    sent = datetime(2025, 6, 30, 15, tzinfo=UTC)
    end = validation_period_end(sent, (NY, LA), 5, 30)
    # Receipt 8 July + 30 days = 7 August, over once it has ended in Los Angeles.
    assert end == datetime(2025, 8, 8, 0, 0, tzinfo=LA)


def test_first_communication_must_carry_or_follow_the_notice() -> None:
    first_sms = (
        "Acme Recovery is a debt collector attempting to collect a debt; any information "
        "obtained will be used for that purpose. https://pay.example.com/r/abc Reply STOP "
        "to opt out."
    )
    first = {
        "step.is_first_communication": True,
        "step.content.body": first_sms,
        "debt.validation_notice_sent_at": None,
        "debt.first_communication_at": None,
    }
    blocked = decide(first)
    assert blocked.rule_ids == ("validation.notice",)
    assert decide({**first, "step.includes_validation_information": True}).decision == "allow"
    follows = {**first, "debt.validation_notice_sent_at": "2025-06-25T15:00:00Z"}
    assert decide(follows).decision == "allow"


def test_validation_information_overdue_five_days_after_first_contact() -> None:
    overdue = {
        "debt.validation_notice_sent_at": None,
        "debt.first_communication_at": "2025-06-20T15:00:00Z",
    }
    assert decide(overdue).rule_ids == ("validation.notice",)
    within = {**overdue, "debt.first_communication_at": "2025-06-28T15:00:00Z"}
    assert decide(within).decision == "allow"


def test_legal_warning_waits_for_the_validation_period_to_end() -> None:
    recent = {**AUTHORISED_WARNING, "debt.validation_notice_sent_at": "2025-06-30T15:00:00Z"}
    waiting = decide(recent)
    assert waiting.decision == "defer"
    assert waiting.rule_ids == ("validation.notice", "hours.fdcpa")
    # The period is over at midnight starting 8 August in New York; then 08:00.
    assert waiting.not_before == datetime(2025, 8, 8, 8, tzinfo=NY)
    assert decide(AUTHORISED_WARNING).decision == "allow"  # notice sent in April


def test_legal_warning_needs_a_notice_and_no_pending_dispute() -> None:
    never = {**AUTHORISED_WARNING, "debt.validation_notice_sent_at": None}
    assert "validation.notice" in decide(never).rule_ids
    disputed = {
        **AUTHORISED_WARNING,
        "debt.disputes": [{"status": "pending", "received_at": "2025-06-01T12:00:00Z"}],
    }
    blocked = decide(disputed)
    assert blocked.rule_ids == ("validation.notice",)  # outside the period: federal rule silent


NEVADA = {
    **living_at("NV", "89501", "Reno"),
    "debt.medical": True,
    "now": "2025-07-01T17:00:00Z",
}


def test_nevada_medical_debt_waits_60_days_after_written_notice() -> None:
    assert decide(NEVADA).rule_ids == ("state.nv.medical_wait",)  # no notice: block
    assert decide(NEVADA).decision == "block"
    noticed = {**NEVADA, "debt.nv_written_notice_at": "2025-06-01T16:00:00Z"}
    waiting = decide(noticed)
    assert waiting.decision == "defer"
    assert waiting.not_before == datetime(2025, 7, 31, 16, tzinfo=UTC)
    assert decide({**noticed, "debt.nv_written_notice_at": "2025-05-01T16:00:00Z"}).decision == (
        "allow"
    )
    assert decide({**NEVADA, "debt.medical": False}).decision == "allow"
