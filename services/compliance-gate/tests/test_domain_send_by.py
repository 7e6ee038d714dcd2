"""send_by: an allow lapses at the earliest close of every window it relies on, over every
candidate zone (time-of-day rules in scope, calendar-day caps counted)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from dunning_core.time_windows import earliest_day_end, window_close
from dunning_gate.domain.examples import (
    example_email_request,
    example_request,
    living_at,
    with_changes,
)
from dunning_testkit.gate_rules import decide, policy_with, utc

NY = ZoneInfo("America/New_York")
HONOLULU = ZoneInfo("Pacific/Honolulu")
FLORIDA_ADDRESS = living_at("FL", "33101")
FLORIDA = living_at("FL", "33101", phone="+13055550123")


def at(text: str) -> str:
    """An instant written in New York local time, as ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=NY).isoformat()


def _t(hour: int) -> time:
    return time(hour)


def test_an_eastern_allow_lapses_at_21_00_eastern() -> None:
    noon = decide({"now": at("2025-07-01T12:00:00")})
    assert noon.decision == "allow"
    assert noon.send_by == datetime(2025, 7, 1, 21, tzinfo=NY)
    assert decide({"now": at("2025-07-01T20:59:59")}).send_by == datetime(2025, 7, 1, 21, tzinfo=NY)


def test_on_the_day_dst_ends_the_window_closes_at_21_00_standard_time() -> None:
    november = with_changes(
        example_request(), {"consumer.phones.0.reassigned_checked_on": "2025-10-20"}
    )
    sunday = decide({"now": "2025-11-02T14:00:00+00:00"}, november)  # 09:00 EST
    assert sunday.decision == "allow"
    # 21:00 EST, not 21:00 at the morning's summer offset (01:00Z).
    assert sunday.send_by == utc("2025-11-03T02:00:00")


def test_hawaii_address_with_an_eastern_phone_closes_at_21_00_eastern() -> None:
    hawaii: dict[str, Any] = {"consumer.state": "HI", "consumer.zip": "96813"}
    base = with_changes(example_request(), {**hawaii, "debt.collector_type": "creditor"})
    # 15:00 ET = 09:00 HST: open in both; Eastern closes first.
    afternoon = decide({"now": at("2025-07-01T15:00:00")}, base)
    assert afternoon.decision == "allow", afternoon.rule_ids
    assert set(afternoon.inputs["candidate_zones"]) >= {"Pacific/Honolulu", "America/New_York"}
    assert afternoon.send_by == datetime(2025, 7, 1, 21, tzinfo=NY)


def test_window_close_is_the_earliest_end_over_the_zones() -> None:
    now = datetime(2025, 7, 1, 19, tzinfo=UTC)  # 15:00 EDT, 09:00 HST
    close = window_close(now, (HONOLULU, NY), _t(8), _t(21))
    assert close == datetime(2025, 7, 1, 21, tzinfo=NY)
    assert window_close(now, (HONOLULU,), _t(8), _t(21)) == datetime(
        2025, 7, 1, 21, tzinfo=HONOLULU
    )


def test_florida_sms_closes_with_the_state_window_email_with_the_federal_one() -> None:
    policy = policy_with({("hours", "state.fl.hours", "end"): "20:00"})
    sms = decide({**FLORIDA, "now": at("2025-07-01T12:00:00")}, policy=policy)
    assert sms.decision == "allow"
    assert sms.send_by == datetime(2025, 7, 1, 20, tzinfo=NY)
    email_base = with_changes(example_email_request(), FLORIDA_ADDRESS)
    email = decide({"now": at("2025-07-01T12:00:00")}, email_base, policy=policy)
    assert email.decision == "allow"
    assert email.send_by == datetime(2025, 7, 1, 21, tzinfo=NY)


def test_no_location_closes_at_21_00_in_the_easternmost_zone() -> None:
    nowhere: dict[str, Any] = {"consumer.state": None, "consumer.zip": None, "consumer.city": None}
    nowhere["consumer.phones"] = []
    base = with_changes(example_email_request(), nowhere)
    summer = decide({"now": "2025-07-01T18:00:00+00:00"}, base)
    assert summer.decision == "allow"
    assert summer.send_by == utc("2025-07-02T01:00:00")  # 21:00 EDT


def test_consumer_stated_inconvenient_evening_closes_the_window_earlier() -> None:
    stated = {"consumer.inconvenient_times": [{"start": "18:00", "end": "23:00"}]}
    noon = decide({**stated, "now": at("2025-07-01T12:00:00")})
    assert noon.decision == "allow"
    assert noon.send_by == datetime(2025, 7, 1, 18, tzinfo=NY)


def test_a_consented_late_time_extends_the_window_to_its_end() -> None:
    consent = {
        "consumer.consented_times": [
            {"start": at("2025-07-01T20:30:00"), "end": at("2025-07-01T22:00:00")}
        ]
    }
    evening = decide({**consent, "now": at("2025-07-01T20:45:00")})
    assert evening.decision == "allow"
    assert evening.send_by == datetime(2025, 7, 1, 22, tzinfo=NY)


def test_a_calendar_day_cap_closes_at_the_first_local_midnight() -> None:
    policy = policy_with(
        {("frequency", "electronic", "caps", 0, "window", "kind"): "calendar_days"}
    )
    evening = decide({"now": at("2025-07-01T12:00:00")}, policy=policy)
    assert evening.decision == "allow"
    # The hours window (21:00) closes before the day does.
    assert evening.send_by == datetime(2025, 7, 1, 21, tzinfo=NY)
    now = datetime(2025, 7, 1, 19, tzinfo=UTC)
    assert earliest_day_end(now, (HONOLULU, NY)) == datetime(2025, 7, 2, tzinfo=NY)


def test_a_calendar_day_cap_alone_closes_the_window_at_midnight() -> None:
    policy = policy_with(
        {
            ("frequency", "electronic", "caps", 2, "window", "kind"): "calendar_days",
            ("hours", "hours.fdcpa", "channels"): ["sms", "voice", "prerecorded_voice"],
        }
    )
    email = decide({"now": at("2025-07-01T22:00:00")}, example_email_request(), policy=policy)
    assert email.decision == "allow", email.rule_ids
    assert email.send_by == datetime(2025, 7, 2, tzinfo=NY)


def test_without_a_time_rule_or_calendar_cap_there_is_no_send_by() -> None:
    policy = policy_with({("hours", "hours.fdcpa", "channels"): ["sms", "voice"]})
    email = decide({"now": at("2025-07-01T22:00:00")}, example_email_request(), policy=policy)
    assert email.decision == "allow", email.rule_ids
    assert email.send_by is None


def test_window_close_across_a_clock_change_is_exact() -> None:
    # 01:30 EST on the spring-forward night: the 00:00-03:00 window closes when the clock
    # jumps from 02:00 EST to 03:00 EDT (07:00Z), not at a wall 03:00 computed at -05:00.
    spring = datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    assert window_close(spring, (NY,), _t(0), _t(3)) == utc("2025-03-09T07:00:00")
    # Outside the window already: it is closed now.
    assert window_close(utc("2025-07-01T02:00:00"), (NY,), _t(8), _t(21)) == utc(
        "2025-07-01T02:00:00"
    )
