"""How the checker times a send against a consumer's signal."""

from __future__ import annotations

from tests.chaos.witness import answered, message_step

SMS = {
    "channel": "sms",
    "status_callback": "https://x/status?step_id=S1&account_id=A1",
    "date_created": "Sun, 06 Dec 2026 22:22:58 +0000",
}


def test_the_sandboxs_exact_instant_is_read_when_it_gives_one() -> None:
    assert message_step(SMS) == ("S1", "A1", 1796595778.0)  # floored to the second
    assert message_step({**SMS, "accepted_at": 1796595778.61})[2] == 1796595778.61


def test_a_topic_arrival_is_judged_against_the_answer_that_followed_it() -> None:
    said = [(100.0, "all", "recorded"), (100.9, "all", "acked"), (50.0, "sms", "acked")]
    assert answered(said, "all", 100.0) == 100.9
    assert answered(said, "sms", 100.0) is None  # another scope, and before it
    assert answered([(100.0, "all", "recorded")], "all", 100.0) is None  # never answered
