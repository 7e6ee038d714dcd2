"""Address and consent: tcpa.consent, address.basis, email.workplace, state.nyc.econsent."""

from __future__ import annotations

from datetime import date

import pytest
from dunning_gate.domain.examples import example_email_request
from dunning_gate.policy import default_policy
from dunning_testkit.gate_rules import decide, policy_with

POLICY = default_policy()


def test_no_tcpa_consent_blocks_sms_and_voice() -> None:
    none = {"consumer.phones.0.consent": "none"}
    assert decide(none).rule_ids == ("tcpa.consent",)
    voice = {**none, "step.channel": "voice"}
    voice["step.content.body"] = "Acme Recovery: this call is from a debt collector."
    assert decide(voice).rule_ids == ("tcpa.consent",)


def test_number_given_to_the_creditor_counts_as_consent() -> None:
    allowed = decide({"consumer.phones.0.consent": "creditor_provided"})
    assert allowed.decision == "allow"
    assert allowed.inputs["consent_source"] == "creditor_provided"


def test_number_not_on_file_has_no_consent_and_no_basis() -> None:
    unknown = decide({"step.destination": "+12125550199"})
    assert set(unknown.rule_ids) == {"tcpa.consent", "address.basis"}


@pytest.mark.parametrize(("days", "allowed"), [(34, False), (35, True)])
def test_creditor_notice_basis_needs_its_35_day_window(days: int, allowed: bool) -> None:
    notice_on = {34: "2025-05-28", 35: "2025-05-27"}[days]  # now is 1 July 2025
    basis = {"consumer.emails.0.basis": "creditor_notice", "consumer.emails.0.basis_on": notice_on}
    decision = decide(basis, example_email_request())
    assert (decision.decision == "allow") is allowed
    if not allowed:
        assert decision.rule_ids == ("address.basis",)
        assert decision.outcomes[0].inputs["usable_from"] == date(2025, 7, 2)


def test_no_basis_at_all_blocks() -> None:
    assert decide({"consumer.emails.0.basis": "none"}, example_email_request()).rule_ids == (
        "address.basis",
    )


@pytest.mark.parametrize(("checked", "allowed"), [("2025-05-02", True), ("2025-05-01", False)])
def test_sms_needs_a_reassigned_numbers_check_within_60_days(checked: str, allowed: bool) -> None:
    decision = decide({"consumer.phones.0.reassigned_checked_on": checked})
    assert (decision.decision == "allow") is allowed


def test_missing_reassigned_check_blocks_sms() -> None:
    assert decide({"consumer.phones.0.reassigned_checked_on": None}).rule_ids == ("address.basis",)


def test_workplace_email_needs_the_consumers_own_basis() -> None:
    creditor_given = {
        "consumer.emails.0.workplace": True,
        "consumer.emails.0.basis": "creditor_notice",
        "consumer.emails.0.basis_on": "2025-01-01",
    }
    assert decide(creditor_given, example_email_request()).rule_ids == ("email.workplace",)
    used = {"consumer.emails.0.workplace": True, "consumer.emails.0.basis": "consumer_used"}
    assert decide(used, example_email_request()).decision == "allow"


def test_nyc_electronic_consent_is_behind_the_flag() -> None:
    brooklyn = {"consumer.zip": "11201", "consumer.city": "Brooklyn"}
    assert decide(brooklyn).decision == "allow"
    flagged = policy_with({"states.nyc.econsent_required": True, "states.nyc.effective_from": None})
    assert decide(brooklyn, policy=flagged).rule_ids == ("state.nyc.econsent",)
    consented = {**brooklyn, "consumer.nyc_electronic_consent": True}
    assert decide(consented, policy=flagged).decision == "allow"
    by_city_name = {"consumer.zip": "11004", "consumer.city": "Queens"}
    assert decide(by_city_name, policy=flagged).rule_ids == ("state.nyc.econsent",)
    albany = decide({}, policy=flagged)
    assert albany.decision == "allow"
