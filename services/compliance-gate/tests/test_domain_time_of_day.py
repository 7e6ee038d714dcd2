"""Time-of-day rules through the whole evaluation: hours.fdcpa, hours.consumer_stated,
state.fl.hours, state.ok.prerecorded, with the rulebook's edge cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dunning_gate.domain.examples import (
    example_email_request,
    example_request,
    living_at,
    with_changes,
)
from dunning_gate.policy import default_policy
from dunning_testkit.gate_rules import decide, policy_with, utc

POLICY = default_policy()
NY = ZoneInfo("America/New_York")
VOICE_SCRIPT = (
    "This is Acme Recovery calling; this call is from a debt collector. Call 800 555 0100."
)


def at(text: str) -> str:
    """An instant written in New York local time, as ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=NY).isoformat()


def test_20_59_is_allowed_and_21_00_00_is_deferred_to_08_00() -> None:
    assert decide({"now": at("2025-07-01T20:59:00")}).decision == "allow"
    assert decide({"now": at("2025-07-01T20:59:59.999999")}).decision == "allow"
    late = decide({"now": at("2025-07-01T21:00:00")})
    assert late.decision == "defer"
    assert late.rule_ids == ("hours.fdcpa",)
    assert late.not_before == datetime(2025, 7, 2, 8, tzinfo=NY)


def test_07_59_59_defers_to_08_00_the_same_morning() -> None:
    early = decide({"now": at("2025-07-01T07:59:59")})
    assert early.not_before == datetime(2025, 7, 1, 8, tzinfo=NY)
    assert decide({"now": at("2025-07-01T08:00:00")}).decision == "allow"


def test_eastern_area_code_with_pacific_address_means_11_to_21_eastern() -> None:
    pacific = living_at("CA", "94105")
    # A creditor: California's collector licence rule is not what this test is about.
    base = with_changes(example_request(), {**pacific, "debt.collector_type": "creditor"})
    before = decide({"now": at("2025-07-01T10:59:00")}, base)
    assert "hours.fdcpa" in before.rule_ids
    assert before.not_before == datetime(2025, 7, 1, 11, tzinfo=NY)
    assert set(before.outcomes[-1].inputs["local_times"]) == {
        "America/Los_Angeles",
        "America/New_York",
    }
    late = decide({"now": at("2025-07-01T21:00:00")}, base)
    assert "hours.fdcpa" in late.rule_ids
    assert late.not_before == datetime(2025, 7, 2, 11, tzinfo=NY)


def test_arizona_in_july_keeps_standard_time() -> None:
    arizona = living_at("AZ", "85004", "Phoenix", "+16025550123")
    # 07:59:59 MST = 14:59:59Z (a DST-assuming offset would call it 08:59 and allow).
    early = decide({**arizona, "now": "2025-07-15T14:59:59+00:00"})
    assert early.decision == "defer"
    assert early.not_before == utc("2025-07-15T15:00:00")
    assert decide({**arizona, "now": "2025-07-16T03:59:00+00:00"}).decision == "allow"
    late = decide({**arizona, "now": "2025-07-16T04:00:00+00:00"})
    assert late.not_before == utc("2025-07-16T15:00:00")


def test_the_sunday_dst_ends_the_window_opens_at_08_00_standard_time() -> None:
    november = with_changes(
        example_request(), {"consumer.phones.0.reassigned_checked_on": "2025-10-20"}
    )
    saturday_night = decide({"now": at("2025-11-01T21:30:00")}, november)  # EDT
    assert saturday_night.not_before == utc("2025-11-02T13:00:00")  # 08:00 EST
    # 12:30Z is 07:30 EST (but 08:30 if the summer offset were kept).
    sunday_morning = decide({"now": "2025-11-02T12:30:00+00:00"}, november)
    assert sunday_morning.decision == "defer"
    assert sunday_morning.not_before == utc("2025-11-02T13:00:00")
    assert decide({"now": "2025-11-03T01:59:00+00:00"}, november).decision == "allow"


def test_spring_forward_morning() -> None:
    march = {"consumer.phones.0.reassigned_checked_on": "2025-03-01"}
    march["debt.validation_notice_sent_at"] = "2025-01-02T15:00:00+00:00"
    early = decide({**march, "now": "2025-03-09T11:30:00+00:00"})  # 07:30 EDT
    assert early.not_before == utc("2025-03-09T12:00:00")


def test_no_location_at_all_uses_the_overlap_of_us_zones() -> None:
    nowhere: dict[str, Any] = {"consumer.state": None, "consumer.zip": None, "consumer.city": None}
    nowhere["consumer.phones"] = []
    base = with_changes(example_email_request(), nowhere)
    winter = decide({"now": "2025-01-07T17:30:00+00:00"}, base)  # 12:30 ET, 07:30 HST
    assert winter.not_before == utc("2025-01-07T18:00:00")  # 08:00 HST = 13:00 ET
    assert len(winter.inputs["candidate_zones"]) == 7
    assert decide({"now": "2025-07-01T18:00:00+00:00"}, base).decision == "allow"
    summer_end = decide({"now": "2025-07-02T01:00:00+00:00"}, base)  # 21:00 EDT
    assert summer_end.decision == "defer"


def test_consumer_said_not_before_noon() -> None:
    stated = {"consumer.inconvenient_times": [{"start": "00:00", "end": "12:00"}]}
    morning = decide({**stated, "now": at("2025-07-01T10:00:00")})
    assert morning.rule_ids == ("hours.consumer_stated",)
    assert morning.not_before == datetime(2025, 7, 1, 12, tzinfo=NY)
    assert decide({**stated, "now": at("2025-07-01T12:00:00")}).decision == "allow"


def test_inconvenient_range_wrapping_midnight_on_a_weekday() -> None:
    tuesday_evenings = {
        "consumer.inconvenient_times": [{"start": "18:00", "end": "10:00", "weekdays": [1]}]
    }
    evening = decide({**tuesday_evenings, "now": at("2025-07-01T19:00:00")})  # Tuesday
    assert evening.not_before == datetime(2025, 7, 2, 10, tzinfo=NY)
    assert "hours.consumer_stated" in evening.rule_ids
    monday = decide({**tuesday_evenings, "now": at("2025-06-30T19:00:00")})
    assert monday.decision == "allow"


def test_reply_to_a_consumer_initiated_message_is_exempt() -> None:
    reply = decide({"now": at("2025-07-01T22:00:00"), "step.is_reply_to_consumer_initiated": True})
    assert reply.decision == "allow"


def test_prior_consent_to_a_time() -> None:
    consent = {
        "consumer.consented_times": [
            {"start": at("2025-07-01T21:30:00"), "end": at("2025-07-01T22:00:00")}
        ]
    }
    assert decide({**consent, "now": at("2025-07-01T21:45:00")}).decision == "allow"
    waiting = decide({**consent, "now": at("2025-07-01T21:10:00")})
    assert waiting.not_before == datetime(2025, 7, 1, 21, 30, tzinfo=NY)


FLORIDA_ADDRESS = living_at("FL", "33101")
FLORIDA = living_at("FL", "33101", phone="+13055550123")


def test_florida_sms_at_night_cites_both_rules_email_only_federal() -> None:
    sms = decide({**FLORIDA, "now": at("2025-07-01T21:30:00")})
    assert set(sms.rule_ids) == {"hours.fdcpa", "state.fl.hours"}
    email_base = with_changes(example_email_request(), FLORIDA_ADDRESS)
    email = decide({"now": at("2025-07-01T21:30:00")}, email_base)
    assert email.rule_ids == ("hours.fdcpa",)


def test_florida_window_is_policy_data() -> None:
    policy = policy_with({("hours", "state.fl.hours", "end"): "20:00"})
    evening = decide({**FLORIDA, "now": at("2025-07-01T20:30:00")}, policy=policy)
    assert evening.rule_ids == ("state.fl.hours",)
    assert evening.not_before == datetime(2025, 7, 2, 8, tzinfo=NY)


def test_oklahoma_prerecorded_voice_from_09_00() -> None:
    oklahoma = {
        **living_at("OK", "73102", "Oklahoma City", "+14055550123"),
        "step.channel": "prerecorded_voice",
        "step.content": {"body": VOICE_SCRIPT},
        "now": "2025-07-01T13:30:00+00:00",  # 08:30 CDT
    }
    recorded = decide(oklahoma)
    assert recorded.rule_ids == ("state.ok.prerecorded",)
    assert recorded.not_before == utc("2025-07-01T14:00:00")
    live_call = decide({**oklahoma, "step.channel": "voice"})
    assert live_call.decision == "allow"


def test_email_can_be_exempted_from_hours_by_policy() -> None:
    policy = policy_with({"email_judged_at_send": False})
    late = decide({"now": at("2025-07-01T23:00:00")}, example_email_request(), policy)
    assert late.decision == "allow"
    assert decide({"now": at("2025-07-01T23:00:00")}, example_email_request()).decision == ("defer")
