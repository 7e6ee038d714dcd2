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
        ("You can stop now, I paid", "opt_out"),  # a strong word counts anywhere
        ("don't stop the reminders", "unknown"),  # a negated revocation cue
        ("Can you stop by my house", "unknown"),  # an idiom
        ("I don't want these texts anymore", "opt_out"),  # cue + channel word
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


def test_a_provider_stop_on_a_stopall_keeps_all_channels() -> None:
    assert classify("STOPALL", provider_opt_out_type="STOP", now=NOW).intent == "opt_out_all"
    assert classify("STOP", provider_opt_out_type="STOP", now=NOW).intent == "opt_out"


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


def test_an_unknown_zone_is_the_caller_s_mistake() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        classify("I'll pay Friday", tz="Mars/Olympus", now=NOW)


def test_a_naive_now_is_taken_as_utc() -> None:
    assert classify("I'll pay tomorrow", now=datetime(2026, 12, 3, 3, 0)).date == date(2026, 12, 3)


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


# Every opt-out the older lists knew (the gate's policy keywords and phrases, the sms
# worker's hard-coded set), so that deleting them for this classifier loses none.
OLD_OPT_OUTS = [
    "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "remove",
    "alto", "basta", "parar", "cancelar", "baja", "arret", "arreter", "desabonner",
    "desinscrire", "sair", "退订",
    "opt out", "no mas", "no más", "stop texting", "stop calling", "stop emailing",
    "stop contacting", "do not contact", "dont contact", "don't contact", "do not text",
    "don't text", "leave me alone", "take me off", "remove me", "no me escriba",
    "no me llame", "no me contacte", "deje de escribir", "deje de llamar", "stop please",
    "please stop", "stop it", "no more", "stop texting me", "stop messaging me",
]  # fmt: skip


@pytest.mark.parametrize("text", OLD_OPT_OUTS)
def test_every_opt_out_the_old_lists_knew_is_still_one(text: str) -> None:
    assert classify(text, now=NOW).intent in {"opt_out", "opt_out_all"}


@pytest.mark.parametrize(("text", "intent"), [("start", "opt_in"), ("unstop", "opt_in"),
    ("subscribe", "opt_in"), ("help", "help"), ("info", "help"), ("ayuda", "help")])  # fmt: skip
def test_the_old_opt_in_and_help_words_keep_their_meaning(text: str, intent: str) -> None:
    assert classify(text, now=NOW).intent == intent
