"""Decision events: rule inputs rendered as plain JSON data, the same way on every path."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from dunning_gate.domain.decision import Decision, RuleOutcome
from dunning_gate.service import _jsonable, _jsonable_general, to_event
from dunning_testkit.gate import NewYorkSms


def reference(value: Any) -> Any:
    """The general rules alone, all the way down: what the fast paths of `_jsonable` must
    agree with."""
    return _jsonable_general(value, reference)


class Colour(StrEnum):
    RED = "red"


class Opaque:
    def __str__(self) -> str:
        return "opaque"


def test_fast_paths_render_like_the_general_rules() -> None:
    new_york = ZoneInfo("America/New_York")
    value = {
        "text": "x",
        "n": 3,
        "ratio": 0.5,
        "flag": True,
        "nothing": None,
        "instant": datetime(2026, 3, 3, 17, tzinfo=UTC),
        "local": datetime(2026, 3, 3, 12, tzinfo=new_york),
        "offset": datetime(2026, 3, 3, 12, tzinfo=timezone(timedelta(hours=-5))),
        "day": date(2026, 3, 3),
        "clock": time(9, 30),
        "zones": ("America/New_York", "America/Chicago"),
        "counts": {"frequency.electronic:sms_daily": 0},
        "nested": [{"at": datetime(2026, 1, 1, tzinfo=UTC)}, [date(2026, 1, 2)]],
        "enum": Colour.RED,
        Colour.RED: "enum key",
        7: "int key",
        "set": frozenset({"a"}),
        "other": Opaque(),
    }
    rendered = _jsonable(value)
    assert rendered == reference(value)
    assert rendered["instant"] == "2026-03-03T17:00:00+00:00"
    assert rendered["local"] == "2026-03-03T12:00:00-05:00"
    assert rendered["zones"] == ["America/New_York", "America/Chicago"]
    assert rendered["red"] == "enum key"
    assert rendered["other"] == "opaque"


def test_the_decider_loads_lazy_tables_when_built_not_on_the_first_batch() -> None:
    from dunning_gate.domain.business_days import us_federal_holidays, validation_period_end
    from dunning_gate.policy.loader import default_policy
    from dunning_gate.service import GateDecider

    us_federal_holidays.cache_clear()
    validation_period_end.cache_clear()
    GateDecider(default_policy())
    assert us_federal_holidays.cache_info().currsize > 0
    assert "holidays.countries.united_states" in sys.modules


def test_a_decision_carries_the_message_it_vetted_whole() -> None:
    planned = NewYorkSms("E").planned(1, attempt=1)
    now = datetime(2026, 3, 3, 17, tzinfo=UTC)
    outcome = RuleOutcome(rule_id="hours.fdcpa", action="defer", explanation="after 21:00")
    verdict = Decision(decision="defer", policy_version="p-1", not_before=now, outcomes=(outcome,))
    event = to_event(verdict, planned, "planned-1", now)
    assert event.content == planned.step.content  # what the ledger records as sent
    assert event.content is not None
    assert event.content.content_hash() == event.content_hash
