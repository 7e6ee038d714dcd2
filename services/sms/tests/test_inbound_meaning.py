"""An inbound text is read by the one shared classifier: free-text revocations opt out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dunning_core.contracts.events import SignalKind
from dunning_sms.domain import read_inbound

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "please stop texting me about this",  # the old keyword list called these plain replies
        "leave me alone",
        "No me escriba más",
        "退订",
        "不要再发了",
    ],
)
def test_revocations_in_any_words_are_opt_outs(text: str) -> None:
    assert read_inbound(text, now=NOW).kind is SignalKind.OPTED_OUT


def test_stopall_opts_out_of_every_channel_and_start_back_in() -> None:
    everything = read_inbound("STOPALL", now=NOW)
    assert everything.kind is SignalKind.OPTED_OUT
    assert everything.all_channels
    assert read_inbound("START", now=NOW).kind is SignalKind.OPTED_IN
    assert read_inbound("HELP", now=NOW).kind is SignalKind.HELP_REQUESTED


def test_twilio_advanced_opt_out_type_wins() -> None:
    assert read_inbound("thanks", now=NOW, opt_out_type="STOP").kind is SignalKind.OPTED_OUT


def test_other_intents_ride_on_the_signal_with_what_was_found() -> None:
    promise = read_inbound("I will pay $50 on Friday", now=NOW)
    assert promise.kind is SignalKind.PROMISED_TO_PAY
    assert promise.details["intent"] == "promise"
    assert promise.details["amount_minor"] == "5000"
    assert promise.details["date"] == "2026-12-04"
    assert read_inbound("this is not my debt", now=NOW).kind is SignalKind.DISPUTED
    assert read_inbound("wrong number", now=NOW).kind is SignalKind.MEDIUM_RESTRICTED
    call = read_inbound("please call me", now=NOW)
    assert call.kind is SignalKind.REPLIED
    assert call.details["intent"] == "call_me"
    negation = read_inbound("don't stop my plan", now=NOW)
    assert negation.kind is not SignalKind.OPTED_OUT
