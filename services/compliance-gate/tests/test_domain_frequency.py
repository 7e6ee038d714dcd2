"""Frequency rules: federal call caps, electronic caps, MA, WA, NYC; deferring until the
window frees, and combining with time of day."""

from __future__ import annotations

from typing import Any

import pytest
from dunning_gate.domain.examples import (
    EMAIL,
    PHONE,
    example_email_request,
    living_at,
    with_changes,
)
from dunning_gate.domain.rules.frequency import counter_keys
from dunning_gate.policy import default_policy
from dunning_testkit.gate_rules import decide, policy_with, utc

POLICY = default_policy()
VOICE = {
    "step.channel": "voice",
    "step.content": {"body": "Acme Recovery calling: this call is from a debt collector."},
}


def attempt(
    when: str,
    channel: str = "voice",
    outcome: str = "voicemail",
    destination: str = PHONE,
    debt_ids: tuple[str, ...] = ("debt-1",),
    **extra: Any,
) -> dict[str, Any]:
    return {
        "at": f"{when}+00:00",
        "channel": channel,
        "debt_ids": list(debt_ids),
        "destination": destination,
        "outcome": outcome,
        **extra,
    }


SEVEN_CALLS = [
    attempt("2025-06-25T14:30:00", outcome="voicemail"),
    attempt("2025-06-26T15:00:00", outcome="no_answer"),
    attempt("2025-06-27T15:00:00", outcome="connected"),
    attempt("2025-06-28T15:00:00", outcome="voicemail"),
    attempt("2025-06-29T15:00:00", outcome="no_answer"),
    attempt("2025-06-30T15:00:00", outcome="voicemail"),
    attempt("2025-07-01T13:00:00", outcome="no_answer"),
]


def test_the_8th_call_attempt_in_7_days_waits_for_the_window_to_free() -> None:
    eighth = decide({**VOICE, "history.attempts": SEVEN_CALLS})
    assert eighth.decision == "defer"
    assert eighth.rule_ids == ("frequency.calls_7in7",)
    assert eighth.not_before == utc("2025-07-02T14:30:00")  # the oldest call + 7 days
    assert eighth.inputs["counts"]["frequency.calls_7in7"] == 7
    seventh = decide({**VOICE, "history.attempts": SEVEN_CALLS[1:]})
    assert seventh.decision == "allow"


def test_calls_that_never_connect_do_not_count_and_texts_do_not_count() -> None:
    busy = [*SEVEN_CALLS[1:], attempt("2025-06-25T14:30:00", outcome="busy")]
    assert decide({**VOICE, "history.attempts": busy}).decision == "allow"
    texts = [*SEVEN_CALLS[1:], attempt("2025-06-25T14:30:00", "sms", "delivered")]
    assert decide({**VOICE, "history.attempts": texts}).decision == "allow"


def test_a_call_about_several_debts_counts_for_each() -> None:
    shared = [
        attempt("2025-06-25T14:30:00", debt_ids=("debt-2", "debt-1")),
        *SEVEN_CALLS[1:],
    ]
    assert decide({**VOICE, "history.attempts": shared}).decision == "defer"
    other_debt = [attempt("2025-06-25T14:30:00", debt_ids=("debt-2",)), *SEVEN_CALLS[1:]]
    assert decide({**VOICE, "history.attempts": other_debt}).decision == "allow"


def test_after_a_conversation_the_next_call_is_on_day_8() -> None:
    talked = [attempt("2025-06-24T15:00:00", outcome="connected", conversation=True)]
    day_7 = decide({**VOICE, "history.attempts": talked, "now": "2025-06-30T14:00:00+00:00"})
    assert day_7.decision == "defer"
    assert day_7.rule_ids[0] == "frequency.calls_after_conversation"
    # Day 8 starts at midnight; the hours rule then moves it to 08:00 EDT.
    assert day_7.not_before == utc("2025-07-01T12:00:00")
    assert "hours.fdcpa" in day_7.rule_ids
    day_8 = decide({**VOICE, "history.attempts": talked, "now": "2025-07-01T12:00:00+00:00"})
    assert day_8.decision == "allow"


def test_electronic_daily_cap_defers_a_day() -> None:
    texted = [attempt("2025-06-30T20:00:00", "sms", "delivered")]
    again = decide({"history.attempts": texted})
    assert again.rule_ids == ("frequency.electronic",)
    assert again.not_before == utc("2025-07-01T20:00:00")
    assert again.inputs["counts"]["frequency.electronic:sms_daily"] == 1


def test_emails_count_across_channels_but_not_against_the_sms_cap() -> None:
    emailed = [attempt("2025-06-30T20:00:00", "email", "delivered", EMAIL)]
    assert decide({"history.attempts": emailed}).decision == "allow"
    two = [*emailed, attempt("2025-07-01T12:00:00", "email", "delivered", EMAIL)]
    crossed = decide({"history.attempts": two})
    assert crossed.inputs["counts"]["frequency.electronic:electronic_daily"] == 2
    assert crossed.not_before == utc("2025-07-01T20:00:00")


def test_failed_sends_do_not_count() -> None:
    failed = [attempt("2025-06-30T20:00:00", "sms", "failed")]
    assert decide({"history.attempts": failed}).decision == "allow"


def test_a_window_that_frees_at_night_waits_for_the_morning() -> None:
    texted = [attempt("2025-06-30T01:00:00", "sms", "delivered")]  # 21:00 EDT the day before
    evening = decide({"history.attempts": texted, "now": "2025-07-01T00:30:00+00:00"})
    assert evening.decision == "defer"
    assert evening.rule_ids == ("frequency.electronic", "hours.fdcpa")
    assert evening.not_before == utc("2025-07-01T12:00:00")
    assert evening.inputs["defer_converged"] is True


def test_precomputed_release_times_replace_the_attempt_list() -> None:
    keyed = {"key": "frequency.electronic:sms_daily", "release_times": ["2025-07-01T18:00:00Z"]}
    waiting = decide({"history.precomputed": [keyed]})
    assert waiting.not_before == utc("2025-07-01T18:00:00")
    assert "frequency.electronic:sms_daily" in counter_keys(POLICY)


def test_calendar_day_windows_are_policy_data() -> None:
    policy = policy_with({"frequency.calls_7in7.window.kind": "calendar_days"})
    eighth = decide({**VOICE, "history.attempts": SEVEN_CALLS}, policy=policy)
    # The oldest call (25 June, New York) leaves the window at midnight starting 2 July.
    assert eighth.not_before == utc("2025-07-02T12:00:00")  # then 08:00 EDT


def test_a_zero_cap_forbids_the_channel() -> None:
    policy = policy_with({"frequency.electronic.caps.0.max": 0})
    assert decide({}, policy=policy).rule_ids == ("frequency.electronic",)
    assert decide({}, policy=policy).decision == "block"


MA_PHONE = "+16175550123"
MASSACHUSETTS = living_at("MA", "02108", "Boston", MA_PHONE)


@pytest.mark.parametrize(
    ("line_type", "earlier", "not_before", "category"),
    [
        # Two texts or calls per 7 days to a home or mobile number...
        (
            "mobile",
            [
                attempt("2025-06-26T15:00:00", "sms", "delivered", MA_PHONE),
                attempt("2025-06-28T15:00:00", "voice", "voicemail", MA_PHONE),
            ],
            "2025-07-03T15:00:00",
            "home_or_mobile",
        ),
        # ... and two per 30 days to any other.
        (
            "work",
            [
                attempt("2025-06-05T15:00:00", "voice", "connected", MA_PHONE),
                attempt("2025-06-20T15:00:00", "sms", "delivered", MA_PHONE),
            ],
            "2025-07-05T15:00:00",
            "other",
        ),
    ],
)
def test_massachusetts_defers_the_third_contact(
    line_type: str, earlier: list[dict[str, Any]], not_before: str, category: str
) -> None:
    phone = {**MASSACHUSETTS, "consumer.phones.0.line_type": line_type}
    third = decide({**phone, "history.attempts": earlier})
    assert third.rule_ids == ("state.ma.frequency",)
    assert third.not_before == utc(not_before)
    assert f"state.ma.frequency:{category}" in third.inputs["counts"]


def test_massachusetts_does_not_count_an_unanswered_call_to_a_mobile() -> None:
    unanswered = [
        attempt("2025-06-26T15:00:00", "sms", "delivered", MA_PHONE),
        attempt("2025-06-28T15:00:00", "voice", "no_answer", MA_PHONE),
    ]
    assert decide({**MASSACHUSETTS, "history.attempts": unanswered}).decision == "allow"


WASHINGTON = living_at("WA", "98101", "Seattle")


def test_washington_three_contacts_a_week_across_channels_and_debts() -> None:
    week = [
        attempt("2025-06-26T18:00:00", "email", "delivered", EMAIL),
        attempt("2025-06-28T18:00:00", "voice", "no_answer", debt_ids=("debt-9",)),
        attempt("2025-06-29T18:00:00", "sms", "delivered"),
    ]
    fourth = decide({**WASHINGTON, "history.attempts": week, "now": "2025-07-01T18:00:00Z"})
    assert fourth.rule_ids == ("state.wa.frequency",)
    assert fourth.not_before == utc("2025-07-03T18:00:00")


def test_washington_once_a_week_at_work() -> None:
    at_work = with_changes(
        example_email_request(), {**WASHINGTON, "consumer.emails.0.workplace": True}
    )
    earlier = [attempt("2025-06-29T18:00:00", "email", "delivered", EMAIL)]
    second = decide({"history.attempts": earlier, "now": "2025-07-01T18:00:00Z"}, at_work)
    assert second.rule_ids == ("state.wa.frequency",)
    assert second.not_before == utc("2025-07-06T18:00:00")
    assert second.inputs["counts"]["state.wa.frequency:at_work"] == 1


NEW_YORK_CITY = {
    "consumer.zip": "11201",
    "consumer.city": "Brooklyn",
    "consumer.nyc_electronic_consent": True,
}
NYC_WEEK = [
    attempt("2025-06-26T15:00:00", "voice", "busy"),
    attempt("2025-06-27T15:00:00", "email", "delivered", EMAIL),
    attempt("2025-06-28T15:00:00", "sms", "delivered"),
]


def test_nyc_frequency_is_behind_a_flag() -> None:
    off = policy_with({"states.nyc.enabled": False})
    assert decide({**NEW_YORK_CITY, "history.attempts": NYC_WEEK}, policy=off).decision == "allow"
    flagged = policy_with({"states.nyc.enabled": True, "states.nyc.effective_from": None})
    fourth = decide({**NEW_YORK_CITY, "history.attempts": NYC_WEEK}, policy=flagged)
    assert fourth.rule_ids == ("state.nyc.frequency",)
    assert fourth.not_before == utc("2025-07-03T15:00:00")


def test_nyc_cap_from_its_effective_date_counts_every_debt_of_the_account() -> None:
    """6 RCNY 5-77 as amended: per account, across channels and debts, from its start date
    (the default policy's is 2026-09-01; here the example's clock is July 2025)."""
    in_force = policy_with({"states.nyc.effective_from": "2025-06-01"})
    fourth = decide({**NEW_YORK_CITY, "history.attempts": NYC_WEEK}, policy=in_force)
    assert fourth.rule_ids == ("state.nyc.frequency",)
    other_debt = [*NYC_WEEK[:2], {**NYC_WEEK[2], "debt_ids": ["debt-2"]}]
    mixed = decide({**NEW_YORK_CITY, "history.attempts": other_debt}, policy=in_force)
    assert mixed.rule_ids == ("state.nyc.frequency",)
    not_yet = policy_with({"states.nyc.effective_from": "2025-08-01"})
    early = decide({**NEW_YORK_CITY, "history.attempts": NYC_WEEK}, policy=not_yet)
    assert early.decision == "allow"
