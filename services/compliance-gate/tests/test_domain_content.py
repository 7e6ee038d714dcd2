"""Content rules: opt-out notice, mini-Miranda, threats (time-barred, unauthorised),
overshadowing, California licence and Rosenthal notice, one-click unsubscribe headers."""

from __future__ import annotations

from datetime import date

from dunning_gate.domain.examples import (
    EMAIL_BODY,
    SMS_BODY,
    example_email_request,
    living_at,
)
from dunning_gate.policy import default_policy
from dunning_testkit.gate_rules import decide

POLICY = default_policy()
FIRST_SMS = (
    "Acme Recovery is a debt collector attempting to collect a debt; any information "
    "obtained will be used for that purpose. Balance $120: https://pay.example.com/r/abc. "
    "Reply STOP to opt out."
)
LEGAL_SMS = (
    "This message is from a debt collector. Unless the balance is resolved, we may file a "
    "lawsuit. Details: https://pay.example.com/r/abc. Reply STOP to opt out."
)
ROSENTHAL = (
    "The state Rosenthal Fair Debt Collection Practices Act and the federal Fair Debt "
    "Collection Practices Act require that, except under unusual circumstances, collectors "
    "may not contact you before 8 a.m. or after 9 p.m. ... you may contact the Federal "
    "Trade Commission at 1-877-FTC-HELP or www.ftc.gov."
)


def test_sms_without_opt_out_text_is_blocked() -> None:
    body = SMS_BODY.replace(" Reply STOP to opt out.", "")
    blocked = decide({"step.content.body": body})
    assert blocked.rule_ids == ("content.optout_notice",)


def test_email_needs_unsubscribe_wording_and_a_link() -> None:
    no_words = EMAIL_BODY.replace("To stop receiving these emails, unsubscribe: ", "")
    assert decide({"step.content.body": no_words}, example_email_request()).rule_ids == (
        "content.optout_notice",
    )
    no_link = "This message is from a debt collector. Reply to unsubscribe."
    blocked = decide({"step.content.body": no_link}, example_email_request())
    assert blocked.rule_ids == ("content.optout_notice",)
    assert "link" in blocked.outcomes[0].explanation


def test_first_communication_needs_the_full_mini_miranda() -> None:
    first = {"step.is_first_communication": True}
    blocked = decide(first)  # the later-communication wording is not enough
    assert blocked.rule_ids == ("content.mini_miranda",)
    assert blocked.outcomes[0].inputs["missing"] == [
        "attempt to collect a debt",
        "any information obtained will be used for that purpose",
    ]
    assert decide({**first, "step.content.body": FIRST_SMS}).decision == "allow"


def test_later_communication_needs_from_a_debt_collector() -> None:
    body = SMS_BODY.replace("this message is from a debt collector, ", "")
    blocked = decide({"step.content.body": body})
    assert blocked.rule_ids == ("content.mini_miranda",)
    assert blocked.outcomes[0].inputs["missing"] == ["from a debt collector"]


def test_creditors_are_not_asked_for_a_debt_collector_disclosure() -> None:
    body = SMS_BODY.replace("this message is from a debt collector, ", "")
    assert decide({"step.content.body": body, "debt.collector_type": "creditor"}).decision == (
        "allow"
    )


def test_texts_are_never_limited_content_messages() -> None:
    body = SMS_BODY.replace("this message is from a debt collector, ", "")
    blocked = decide({"step.content.body": body, "step.limited_content": True})
    assert blocked.rule_ids == ("content.mini_miranda",)
    voicemail = {
        "step.channel": "voice",
        "step.limited_content": True,
        "step.content.body": "This is Sam Lee from Acme, please call 800 555 0100.",
    }
    assert decide(voicemail).decision == "allow"


def test_legal_warning_on_a_time_barred_debt_is_blocked() -> None:
    barred = {
        "step.stage": "legal_warning",
        "step.content.body": LEGAL_SMS,
        "debt.legal_action_authorized": True,
        "debt.limitation_date": "2025-06-01",
    }
    blocked = decide(barred)
    assert blocked.rule_ids == ("content.timebarred_threat",)
    assert blocked.outcomes[0].inputs["limitation_date"] == date(2025, 6, 1)
    in_time = decide({**barred, "debt.limitation_date": "2027-01-01"})
    assert in_time.decision == "allow"


def test_unknown_limitation_date_counts_as_time_barred() -> None:
    unknown = {
        "step.content.body": LEGAL_SMS,
        "debt.legal_action_authorized": True,
        "debt.limitation_date": None,
    }
    blocked = decide(unknown)
    assert blocked.rule_ids == ("content.timebarred_threat",)
    assert "unknown" in blocked.outcomes[0].explanation


def test_limitation_date_from_last_payment_and_state_years() -> None:
    texas = {
        "step.content.body": LEGAL_SMS,
        "debt.legal_action_authorized": True,
        "debt.limitation_date": None,
        "debt.governing_state": "TX",  # 4 years
    }
    assert decide({**texas, "debt.last_payment_date": "2021-07-02"}).decision == "allow"
    assert decide({**texas, "debt.last_payment_date": "2021-07-01"}).decision == "block"
    # New York: 3 years; a state without an entry: unknown, so time-barred.
    new_york = {**texas, "debt.governing_state": "NY"}
    assert decide({**new_york, "debt.last_payment_date": "2022-07-02"}).decision == "allow"
    assert decide({**new_york, "debt.last_payment_date": "2022-07-01"}).decision == "block"
    ohio = {**texas, "debt.governing_state": "OH", "debt.last_payment_date": "2025-01-01"}
    no_entry = decide(ohio)
    assert no_entry.rule_ids == ("content.timebarred_threat",)


def test_legal_language_without_authorisation_is_blocked() -> None:
    blocked = decide({"step.content.body": LEGAL_SMS})
    assert blocked.rule_ids == ("content.unauthorized_threat",)
    assert blocked.outcomes[0].inputs["threat"] == "lawsuit"


def test_legal_warning_stage_itself_implies_a_threat() -> None:
    blocked = decide({"step.stage": "legal_warning"})
    assert "content.unauthorized_threat" in blocked.rule_ids


def test_saying_we_will_not_sue_is_not_a_threat() -> None:
    notice = "Because of the age of this debt, we will not sue you. Reply STOP"
    body = SMS_BODY.replace("Reply STOP", notice)
    assert decide({"step.content.body": body}).decision == "allow"


def test_overshadowing_during_the_validation_period_only() -> None:
    pushy = SMS_BODY.replace("Reply STOP", "Pay within 10 days or else. Reply STOP")
    during = {
        "step.content.body": pushy,
        "debt.validation_notice_sent_at": "2025-06-20T15:00:00Z",
    }
    blocked = decide(during)
    assert blocked.rule_ids == ("content.overshadowing",)
    assert blocked.outcomes[0].inputs["phrase"] == "or else"
    after = decide({"step.content.body": pushy})  # notice sent in April: period over
    assert after.decision == "allow"


CALIFORNIA = {
    **living_at("CA", "94105", "San Francisco"),
    "now": "2025-07-01T17:00:00Z",  # 10:00 PDT
}


def test_california_needs_the_licence_number_in_the_message() -> None:
    assert decide(CALIFORNIA).rule_ids == ("state.ca.license",)
    licensed = {**CALIFORNIA, "debt.ca_license_number": "10123-99"}
    assert decide(licensed).rule_ids == ("state.ca.license",)
    body = SMS_BODY.replace("Reply STOP", "CA licence 10123-99. Reply STOP")
    assert decide({**licensed, "step.content.body": body}).decision == "allow"


def test_california_first_written_notice_needs_the_rosenthal_notice() -> None:
    licensed = {**CALIFORNIA, "debt.ca_license_number": "10123-99"}
    body = EMAIL_BODY + "\nCalifornia licence 10123-99."
    first = {**licensed, "step.content.body": body, "step.is_first_written_notice": True}
    blocked = decide(first, example_email_request())
    assert blocked.rule_ids == ("state.ca.license",)
    assert "Rosenthal" in blocked.outcomes[0].explanation
    with_notice = {**first, "step.content.body": body + "\n" + ROSENTHAL}
    assert decide(with_notice, example_email_request()).decision == "allow"


def test_email_without_one_click_unsubscribe_headers_is_blocked() -> None:
    bare = decide({"step.content.headers": {}}, example_email_request())
    # without List-Unsubscribe the body's link cannot be told to be ours either
    assert bare.rule_ids == ("content.optout_notice", "email.one_click_unsubscribe")
    assert len(bare.outcomes[1].inputs["missing"]) == 2
    http_only = {"step.content.headers.List-Unsubscribe": "<http://mail.example.com/u/abc>"}
    http_decision = decide(http_only, example_email_request())
    assert http_decision.rule_ids == ("content.optout_notice", "email.one_click_unsubscribe")
    lower_case = {
        "step.content.headers": {
            "list-unsubscribe": "<https://mail.example.com/u/abc>",
            "list-unsubscribe-post": "List-Unsubscribe=One-Click",
        }
    }
    assert decide(lower_case, example_email_request()).decision == "allow"


def test_a_payment_link_is_not_an_unsubscribe_link() -> None:
    """Found measuring the gate: any https link passed as the unsubscribe link."""
    pay_only = EMAIL_BODY.replace("https://mail.example.com/u/abc", "https://pay.example.com/r/abc")
    blocked = decide({"step.content.body": pay_only}, example_email_request())
    assert blocked.rule_ids == ("content.optout_notice",)
    assert blocked.outcomes[0].inputs["links_in_body"] == ["https://pay.example.com/r/abc"]
    assert blocked.outcomes[0].inputs["list_unsubscribe"] == ["https://mail.example.com/u/abc"]


def test_the_list_unsubscribe_target_or_a_policy_prefix_is_an_unsubscribe_link() -> None:
    both = EMAIL_BODY + " Pay: https://pay.example.com/r/abc."
    assert decide({"step.content.body": both}, example_email_request()).decision == "allow"
    other = EMAIL_BODY.replace("https://mail.example.com/u/abc", "https://u.example.org/x/1")
    assert decide({"step.content.body": other}, example_email_request()).decision == "block"
    prefixed = POLICY.model_copy(
        update={
            "content": POLICY.content.model_copy(
                update={
                    "opt_out_notice": POLICY.content.opt_out_notice.model_copy(
                        update={"email_unsubscribe_url_prefixes": ("https://u.example.org/",)}
                    )
                }
            )
        }
    )
    allowed = decide({"step.content.body": other}, example_email_request(), policy=prefixed)
    assert allowed.decision == "allow"


_THREAT = {
    "step.content.body": LEGAL_SMS,
    "debt.legal_action_authorized": True,
    "debt.limitation_date": None,
}


def test_limitation_runs_from_accrual_not_only_the_last_payment() -> None:
    """Found measuring the gate: the period ran only from last_payment_date."""
    texas = {**_THREAT, "debt.governing_state": "TX"}  # 4 years
    # charged off in 2020: barred since 2024, whatever the (missing) last payment says
    assert decide({**texas, "debt.charged_off_on": "2020-03-01"}).decision == "block"
    assert decide({**texas, "debt.charged_off_on": "2023-03-01"}).decision == "allow"
    # the earlier of default and charge-off starts the period
    both = {**texas, "debt.defaulted_on": "2021-01-01", "debt.charged_off_on": "2023-03-01"}
    assert decide(both).decision == "block"


def test_a_payment_after_expiry_does_not_revive_a_new_york_debt() -> None:
    new_york = {**_THREAT, "debt.governing_state": "NY", "debt.defaulted_on": "2020-01-01"}
    # barred since 2023-01-01; a payment in 2025 must not restart the clock (CPLR 214-i)
    blocked = decide({**new_york, "debt.last_payment_date": "2025-05-01"})
    assert blocked.rule_ids == ("content.timebarred_threat",)
    assert blocked.outcomes[0].inputs["limitation_date"] == date(2023, 1, 1)
    # Florida lets a payment restart it: 5 years from the 2025 payment
    florida = {**new_york, "debt.governing_state": "FL", "debt.last_payment_date": "2025-05-01"}
    assert decide(florida).decision == "allow"
    assert decide({**florida, "debt.last_payment_date": None}).decision == "block"


def test_a_threat_inside_a_chinese_sentence_is_found() -> None:
    """Chinese has no spaces between words: phrases match inside a run of characters."""
    body = (
        "本信息来自债务催收机构。如果您不付款，我们将起诉您并申请扣押工资。"
        "回复 STOP 退订。 https://pay.example.com/r/abc"
    )
    blocked = decide({"step.content.body": body, "step.content.locale": "zh-CN"})
    assert blocked.rule_ids == ("content.unauthorized_threat",)
    said = (
        "本信息来自债务催收机构。由于这笔债务的年限，Example Bank 不会就此起诉您。回复 STOP 退订。"
    )
    assert decide({"step.content.body": said}).decision == "allow"
