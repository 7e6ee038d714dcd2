"""Agent tasks, pure: which replies open one, the due window in the consumer's allowed
hours across every candidate zone (DST included), and who may claim or finish a task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_ledger.domain import tasks
from dunning_ledger.domain.task_query import decode_cursor, encode_cursor

NY, LA = "America/New_York", "America/Los_Angeles"


def reply(intent: str | None, kind: SignalKind = SignalKind.REPLIED) -> ConsumerSignaled:
    return ConsumerSignaled(
        account_id="A1", signal_id="SM1", kind=kind, channel=Channel.SMS, source="sms",
        occurred_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
        details={} if intent is None else {"intent": intent},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("intent", "kind"),
    [
        ("call_me", tasks.TaskKind.CALL_BACK),
        ("unknown", tasks.TaskKind.REVIEW_REPLY),
        # no intent reads as unknown, as the scheduler reads it
        (None, tasks.TaskKind.REVIEW_REPLY),
        ("pay", None),
        ("think_time", None),
    ],
)
def test_which_replies_need_a_person(intent: str | None, kind: tasks.TaskKind | None) -> None:
    assert tasks.reply_task_kind(reply(intent)) is kind


def test_only_replies_open_tasks_and_a_task_id_is_its_events() -> None:
    assert tasks.reply_task_kind(reply("call_me", SignalKind.OPTED_OUT)) is None
    assert tasks.task_id_for("ce-1") == tasks.task_id_for("ce-1") != tasks.task_id_for("ce-2")


def test_zones_are_the_address_and_every_phone_or_the_whole_country() -> None:
    consumer = {"state": "NY", "zip_code": "10001", "phones": [{"number": "+13105550100"}]}
    assert tasks.account_zones(consumer) == (NY, LA)
    named = {"state": "NY", "time_zones": ["America/Chicago", "Not/AZone"]}
    assert tasks.account_zones(named) == ("America/Chicago", NY)
    assert "Pacific/Honolulu" in tasks.account_zones({"state": "ZZ"})


def test_a_reply_inside_the_hours_of_every_zone_is_due_within_hours() -> None:
    at = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 12:00 in New York, 09:00 in Los Angeles
    window = tasks.due_window(at, (NY, LA))
    assert window.opens_at == at
    assert window.due_at == at + tasks.DUE_WITHIN
    assert window.closes_at == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 21:00 in New York


def test_a_late_reply_waits_for_the_last_zone_to_open() -> None:
    at = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 22:00 New York, 19:00 Los Angeles
    window = tasks.due_window(at, (NY, LA))
    assert window.opens_at == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 08:00 Los Angeles
    assert window.closes_at == datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 21:00 New York
    assert window.due_at == window.opens_at + tasks.DUE_WITHIN


def test_the_due_instant_never_passes_the_close() -> None:
    at = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)  # 19:30 in New York: 90 minutes left
    window = tasks.due_window(at, (NY,))
    assert window.opens_at == at
    assert window.due_at == window.closes_at == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def test_the_window_follows_daylight_saving_time() -> None:
    at = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # Saturday 22:00 EST; Sunday clocks go forward
    window = tasks.due_window(at, (NY,))
    assert window.opens_at == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT (UTC-4)


def test_zones_far_apart_share_what_hours_they_have() -> None:
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 22:00 in Guam, 02:00 in Hawaii
    window = tasks.due_window(at, ("Pacific/Guam", "Pacific/Honolulu"))
    assert window.opens_at == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 08:00 in Guam
    assert window.closes_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 21:00 in Hawaii
    assert window.opens_at.astimezone(ZoneInfo("Pacific/Guam")).hour == 8


def test_zones_with_no_common_hour_fall_back_to_the_first() -> None:
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 04:00 in Los Angeles
    window = tasks.due_window(at, ("America/Los_Angeles", "Europe/London", "Asia/Shanghai"))
    assert window.opens_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 08:00 Los Angeles
    assert window.closes_at == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # 21:00 Los Angeles


NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)
OPEN = tasks.TaskState(tasks.TaskStatus.OPEN, None, None)
HELD = tasks.TaskState(tasks.TaskStatus.CLAIMED, "ann", NOW + timedelta(minutes=5))
LAPSED = tasks.TaskState(tasks.TaskStatus.CLAIMED, "ann", NOW - timedelta(seconds=1))
DONE = tasks.TaskState(tasks.TaskStatus.DONE, "ann", None)


def test_claims() -> None:
    assert tasks.may_claim(OPEN, "bob", NOW) is None
    assert tasks.may_claim(HELD, "bob", NOW) is tasks.Refusal.TAKEN
    assert tasks.may_claim(HELD, "ann", NOW) is None  # renewing one's own claim
    assert tasks.may_claim(LAPSED, "bob", NOW) is None
    assert LAPSED.effective(NOW) is tasks.TaskStatus.OPEN
    assert HELD.effective(NOW) is tasks.TaskStatus.CLAIMED
    assert tasks.may_claim(DONE, "ann", NOW) is tasks.Refusal.CLOSED


def test_only_the_claimer_or_an_admin_finishes() -> None:
    assert tasks.may_finish(HELD, "ann", False, NOW) is None
    assert tasks.may_finish(HELD, "bob", False, NOW) is tasks.Refusal.NOT_CLAIMER
    assert tasks.may_finish(HELD, "root", True, NOW) is None
    assert tasks.may_finish(OPEN, "ann", False, NOW) is tasks.Refusal.NOT_CLAIMED
    assert tasks.may_finish(LAPSED, "ann", False, NOW) is None  # nobody else took it
    assert tasks.may_finish(DONE, "root", True, NOW) is tasks.Refusal.CLOSED


def test_the_cursor_round_trips_and_refuses_strangers() -> None:
    assert decode_cursor(encode_cursor(NOW, "tsk_1")) == (NOW, "tsk_1")
    for bad in ("nope", encode_cursor(NOW, "x")[:-3] + "!!!", ""):
        with pytest.raises(ValueError, match="cursor"):
            decode_cursor(bad)
