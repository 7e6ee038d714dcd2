"""The consumer's wishes and status: opt-outs (inbound messages in several languages, read
by the shared classifier), restricted media, cease, attorney, disputes (incl. one arriving
mid-escalation), bankruptcy, death."""

from __future__ import annotations

from typing import Any

import pytest
from dunning_gate.domain.examples import (
    EMAIL,
    PHONE,
    example_email_request,
    living_at,
)
from dunning_gate.domain.rules.wishes import inbound_intent
from dunning_gate.policy import Policy, default_policy
from dunning_testkit.gate_rules import decide

POLICY = default_policy()


def inbound(text: str, when: str = "2025-06-30T15:00:00Z", **extra: Any) -> dict[str, Any]:
    return {"channel": "sms", "from_address": PHONE, "text": text, "received_at": when, **extra}


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop please",
        "Please STOP!!",
        "no mas",
        "No más",
        "NO MÁS.",
        "Alto",
        "unsubscribe",
        "Opt-Out",
        "quit",
        "退订",
        "please stop texting me about this, I already told you",
        "No me escriba más",
    ],
)
def test_opt_out_words_and_phrases(text: str) -> None:
    assert inbound_intent(text) == "opt_out"
    stopped = decide({"consumer.inbound_messages": [inbound(text)]})
    assert stopped.rule_ids == ("optout.channel",)


@pytest.mark.parametrize(
    "text",
    [
        "I will pay at the end of the month, thanks",
        "Can you stop by the office tomorrow afternoon please",
        "ok",
        "",
        "¿Cuánto debo?",
    ],
)
def test_ordinary_replies_are_not_opt_outs(text: str) -> None:
    assert inbound_intent(text) not in ("opt_out", "opt_out_all")
    assert decide({"consumer.inbound_messages": [inbound(text)]}).decision == "allow"


def test_start_opts_back_in() -> None:
    assert inbound_intent("START") == "opt_in"
    assert inbound_intent("Unstop") == "opt_in"


def test_the_gate_keeps_no_keyword_list_of_its_own() -> None:
    """The words live in the shared vocabulary only; a policy listing them is refused."""
    data = POLICY.model_dump(mode="json")
    data["keywords"]["opt_out_words"] = {"en": ["stop"]}
    with pytest.raises(ValueError, match="opt_out_words"):
        Policy.model_validate(data)


@pytest.mark.parametrize(
    "text", ["leave me alone", "I don't want these messages anymore", "不想收到短信", "STOPP"]
)
def test_free_text_revocations_block_as_in_production(text: str) -> None:
    """Read by the classifier the sms worker uses (issue 9), not by a shorter list."""
    stopped = decide({"consumer.inbound_messages": [inbound(text)]})
    assert stopped.rule_ids == ("optout.channel",)


def test_stopall_blocks_every_channel_until_a_start_on_that_one() -> None:
    stopall = {"consumer.inbound_messages": [inbound("STOPALL")]}
    blocked = decide(stopall, example_email_request())
    assert blocked.rule_ids == ("optout.channel",)
    assert blocked.outcomes[0].inputs["scope"] == "every_channel"
    assert decide(stopall).rule_ids == ("optout.channel",)
    restarted = [inbound("STOPALL"), inbound("START", "2025-06-30T16:00:00Z")]
    assert decide({"consumer.inbound_messages": restarted}).decision == "allow"
    still_email = decide({"consumer.inbound_messages": restarted}, example_email_request())
    assert still_email.rule_ids == ("optout.channel",)


def test_yes_opts_back_in_only_right_after_an_opt_out() -> None:
    assert decide({"consumer.inbound_messages": [inbound("YES")]}).decision == "allow"
    messages = [inbound("STOP"), inbound("yes", "2025-06-30T16:00:00Z")]
    assert decide({"consumer.inbound_messages": messages}).decision == "allow"


def test_messages_are_read_in_time_order() -> None:
    messages = [inbound("START", "2025-06-30T16:00:00Z"), inbound("STOP")]
    assert decide({"consumer.inbound_messages": messages}).decision == "allow"


def test_wrong_number_restricts_that_address() -> None:
    blocked = decide({"consumer.inbound_messages": [inbound("wrong number")]})
    assert blocked.rule_ids == ("medium.restricted",)
    assert blocked.outcomes[0].inputs["source"] == "inbound_wrong_number"
    other = {"consumer.inbound_messages": [inbound("wrong number", from_address="+12125550199")]}
    assert decide(other).decision == "allow"


@pytest.mark.parametrize("text", ["stop please", "no mas"])
def test_inbound_opt_out_blocks_the_channel_at_once(text: str) -> None:
    stopped = decide({"consumer.inbound_messages": [inbound(text)]})
    assert stopped.decision == "block"
    assert stopped.rule_ids == ("optout.channel",)
    assert stopped.outcomes[0].inputs["source"] == "inbound_keyword"


def test_opt_out_is_scoped_to_its_channel_and_address() -> None:
    stopped = {"consumer.inbound_messages": [inbound("STOP")]}
    assert decide(stopped, example_email_request()).decision == "allow"
    other_number = {"consumer.inbound_messages": [inbound("STOP", from_address="+12125550199")]}
    assert decide(other_number).decision == "allow"


def test_a_later_start_lifts_a_keyword_opt_out() -> None:
    messages = [inbound("STOP"), inbound("START", "2025-06-30T16:00:00Z")]
    assert decide({"consumer.inbound_messages": messages}).decision == "allow"
    again = [*messages, inbound("stop please", "2025-06-30T17:00:00Z")]
    assert decide({"consumer.inbound_messages": again}).decision == "block"


def test_provider_error_21610_is_an_opt_out() -> None:
    refused = {
        "at": "2025-06-30T15:00:00Z",
        "channel": "sms",
        "debt_ids": ["debt-1"],
        "destination": PHONE,
        "outcome": "failed",
        "provider_error_code": "21610",
    }
    blocked = decide({"history.attempts": [refused]})
    assert blocked.rule_ids == ("optout.channel",)
    assert blocked.outcomes[0].inputs["source"] == "provider_error:21610"


def test_recorded_opt_outs_email_unsubscribe_and_revocation() -> None:
    unsubscribed = {"consumer.opt_outs": [{"channel": "email", "source": "unsubscribe"}]}
    assert decide(unsubscribed, example_email_request()).rule_ids == ("optout.channel",)
    assert decide(unsubscribed).decision == "allow"  # sms unaffected
    spam = {"consumer.opt_outs": [{"address": EMAIL, "source": "spam_report"}]}
    assert decide(spam, example_email_request()).decision == "block"
    revoked = {
        "consumer.opt_outs": [
            {"channel": "sms", "at": "2025-06-01T00:00:00Z", "revoked_at": "2025-06-02T00:00:00Z"}
        ]
    }
    assert decide(revoked).decision == "allow"


def test_restricted_medium_blocks_that_medium_only() -> None:
    no_email = {"consumer.restricted_media": [{"channel": "email"}]}
    assert decide(no_email, example_email_request()).rule_ids == ("medium.restricted",)
    assert decide(no_email).decision == "allow"
    not_this_number = {"consumer.restricted_media": [{"address": PHONE}]}
    assert decide(not_this_number).rule_ids == ("medium.restricted",)


def test_cease_blocks_collection_but_not_the_ending_notice() -> None:
    cease = {"consumer.cease_requested": True}
    assert decide(cease).rule_ids == ("cease.requested",)
    assert decide({**cease, "step.stage": "collection_ending"}).decision == "allow"
    assert decide({**cease, "step.stage": "specific_remedy"}).decision == "allow"


@pytest.mark.parametrize(
    ("flag", "rule_id"),
    [
        ("attorney_represented", "attorney.represented"),
        ("bankruptcy_filed", "bankruptcy.stay"),
        ("deceased", "deceased"),
    ],
)
def test_status_flags_block(flag: str, rule_id: str) -> None:
    blocked = decide({f"consumer.{flag}": True, "step.stage": "collection_ending"})
    assert blocked.decision == "block"
    assert blocked.rule_ids == (rule_id,)


def test_a_dispute_arriving_mid_escalation_stops_collection_until_verified() -> None:
    # Validation notice sent 20 June: the period runs to early August.
    recent: dict[str, Any] = {
        "debt.validation_notice_sent_at": "2025-06-20T15:00:00Z",
        "step.stage": "urgency",
    }
    assert decide(recent).decision == "allow"
    disputed: dict[str, Any] = {
        **recent,
        "debt.disputes": [{"status": "pending", "received_at": "2025-06-30T12:00:00Z"}],
    }
    blocked = decide(disputed)
    assert blocked.rule_ids == ("dispute.pending",)
    verified = {**disputed, "debt.disputes.0": {**disputed["debt.disputes"][0]}}
    verified["debt.disputes.0"]["status"] = "verified"
    assert decide(verified).decision == "allow"


def test_an_oral_dispute_does_not_trigger_the_federal_rule_but_does_in_massachusetts() -> None:
    oral = {
        "debt.disputes": [
            {"status": "pending", "received_at": "2025-06-30T12:00:00Z", "written": False}
        ]
    }
    assert decide(oral).decision == "allow"
    massachusetts = {
        **oral,
        **living_at("MA", "02108", "Boston"),
    }
    assert decide(massachusetts).rule_ids == ("state.ma.dispute",)


def test_a_dispute_after_the_validation_period_only_blocks_in_massachusetts() -> None:
    late = {"debt.disputes": [{"status": "pending", "received_at": "2025-06-30T12:00:00Z"}]}
    # Notice sent 1 April: the period ended in May.
    assert decide(late).decision == "allow"
    assert decide({**late, "consumer.state": "MA", "consumer.zip": "02108"}).rule_ids == (
        "state.ma.dispute",
    )


def test_an_operators_pause_blocks_every_stage_until_resumed() -> None:
    from dunning_core.contracts.events import ConsumerSignaled, SignalKind
    from dunning_gate.domain.state import AccountState, apply_signal

    for stage in ("friendly_reminder", "collection_ending"):
        blocked = decide({"consumer.outreach_paused": True, "step.stage": stage})
        assert blocked.decision == "block"
        assert blocked.rule_ids == ("operator.paused",)
    state = AccountState(account_id="A1")
    said = {"account_id": "A1", "source": "operator", "occurred_at": "2026-03-02T15:00:00Z"}
    paused = ConsumerSignaled(signal_id="p", kind=SignalKind.OUTREACH_PAUSED, **said)
    assert apply_signal(state, paused)
    assert state.outreach_paused  # old code: the gate ignored the signal
    resumed = ConsumerSignaled(signal_id="r", kind=SignalKind.OUTREACH_RESUMED, **said)
    assert apply_signal(state, resumed)
    assert not state.outreach_paused
