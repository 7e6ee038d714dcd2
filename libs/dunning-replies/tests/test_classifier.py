"""Single replies: the hard cases by name, bad input, Twilio's OptOutType, zones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from dunning_replies import Classification, Classifier, classify, format_rows

NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # Wednesday 15:00 in New York


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me about this",
        "leave me alone",
        "No me escriba más",
        "退订",
        "不要再发了",
        "STOP",
        "End",
        "CANCEL",
        "unsubscribe",
        "Quit",
        "REVOKE",
        "opt out",
        "stopall",
        "Stop. I'll pay Friday",
        "I said STOP, I will pay when I can and not before",
        "stpo",
        "unsubcribe",
        "ＳＴＯＰ",  # full-width
        "S.T.O.P",
        "Stop 🛑",
        "STOP 退订",
    ],
)
def test_these_are_opt_outs(text: str) -> None:
    assert classify(text, now=NOW).intent in {"opt_out", "opt_out_all"}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("don't stop my plan", "plan"),
        ("stop by tomorrow to pay", "promise"),
        ("I will pay at the end of the month", "promise"),
        ("pagar", "pay"),
        ("STOPALL", "opt_out_all"),
        ("this isn't my debt", "dispute"),
        ("wrong number", "wrong_number"),
        ("CALL ME", "call_me"),
        ("PAY", "pay"),
        ("I can't pay now", "plan"),
        ("let me think about it", "think_time"),
        ("I never got the bill", "bill_not_received"),
    ],
)
def test_hard_cases(text: str, intent: str) -> None:
    assert classify(text, now=NOW).intent == intent


def test_yes_opts_in_only_after_an_opt_out() -> None:
    assert classify("YES", now=NOW).intent == "unknown"
    assert classify("YES", now=NOW, after_opt_out=True).intent == "opt_in"
    assert classify("sí", now=NOW, after_opt_out=True).intent == "opt_in"
    assert classify("START", now=NOW).intent == "opt_in"


@pytest.mark.parametrize(
    ("opt_out_type", "intent"), [("STOP", "opt_out"), ("START", "opt_in"), ("HELP", "help")]
)
def test_twilio_opt_out_type_wins(opt_out_type: str, intent: str) -> None:
    result = classify("I'll pay Friday", now=NOW, provider_opt_out_type=opt_out_type)
    assert result.intent == intent
    assert result.confidence == "high"


@pytest.mark.parametrize(
    "text", ["", "   ", None, 42, b"STOP", "😀😀😀", "\ud800\udfffabc\ud800", "a" * 1600, "?!..."]
)
def test_bad_input_is_unknown_never_an_error(text: object) -> None:
    result = classify(text, now=NOW)
    assert isinstance(result, Classification)
    assert result.intent == "unknown"


def test_a_1600_character_message_with_a_stop_inside_a_sentence_of_its_own() -> None:
    body = "I have a question about the balance. " * 43 + "STOP."
    assert len(body) == 1596
    assert classify(body, now=NOW).intent == "opt_out"


def test_friday_is_resolved_in_the_consumer_s_zone() -> None:
    # 03:00 UTC Thursday is still Wednesday evening in New York, already Thursday in Tokyo.
    late = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    assert classify("I'll pay $50 on Thursday", now=late).date == date(2026, 12, 3)
    assert classify("I'll pay $50 on Thursday", now=late, tz="Asia/Tokyo").date == date(
        2026, 12, 10
    )
    in_ny = classify("I'll pay $50 on Friday", now=late, tz="America/New_York")
    in_tokyo = classify("I'll pay $50 on Friday", now=late, tz="Asia/Tokyo")
    assert in_ny.date == date(2026, 12, 4)
    assert in_tokyo.date == date(2026, 12, 4)
    assert classify("I'll pay tomorrow", now=late, tz="America/New_York").date == date(2026, 12, 3)
    assert classify("I'll pay tomorrow", now=late, tz="Asia/Tokyo").date == date(2026, 12, 4)


def test_a_promise_carries_date_and_amount() -> None:
    result = classify("pagaré 100 el 15 de enero", now=NOW)
    assert result.intent == "promise"
    assert result.language == "es"
    assert result.date == date(2027, 1, 15)
    assert result.amount is not None
    assert (result.amount.minor_units, result.amount.currency) == (10000, "USD")


def test_amounts_in_other_forms() -> None:
    assert classify("I'll pay $1,234.56 on Friday", now=NOW).amount.minor_units == 123456  # type: ignore[union-attr]
    assert classify("pagaré 1.500 dólares el lunes", now=NOW).amount.minor_units == 150000  # type: ignore[union-attr]
    assert classify("我下周五还五百", now=NOW).amount.minor_units == 50000  # type: ignore[union-attr]
    assert classify("I'll pay on Friday", now=NOW).amount is None


def test_format_rows_gives_text_intent_date_amount() -> None:
    texts = ["I'll pay $50 on Friday", "STOP"]
    rows = format_rows((t, classify(t, now=NOW)) for t in texts)
    assert rows == [
        {
            "text": "I'll pay $50 on Friday",
            "intent": "promise",
            "date": "2026-12-04",
            "amount": {"minor_units": 5000, "currency": "USD"},
        },
        {"text": "STOP", "intent": "opt_out", "date": None, "amount": None},
    ]
    json.dumps(rows)  # plain JSON, as the CLI prints it


def test_classification_as_dict_is_json() -> None:
    result = Classifier().classify("I'll pay $50 on Friday", now=NOW)
    data = json.loads(json.dumps(result.as_dict()))
    assert data["intent"] == "promise"
    assert data["why"]
