"""Unit tests of the sandbox's pure rules: what it accepts, refuses and reports."""

from __future__ import annotations

import pytest
from dunning_sandbox import sendgrid_rules, twilio_rules
from dunning_sandbox.webhook_dispatcher import is_allowed_callback_url
from dunning_testkit.servers import TWILIO_REFUSALS


def _form(**overrides: str) -> dict[str, str]:
    form = {"To": "+14155550100", "From": "+15005550006", "Body": "Hello"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v != "-"}


def test_valid_create_request_is_parsed() -> None:
    parsed = twilio_rules.parse_create_request(_form(StatusCallback="http://127.0.0.1/cb"))
    assert isinstance(parsed, twilio_rules.CreateRequest)
    assert parsed.status_callback == "http://127.0.0.1/cb"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"To": "-"}, 21604),
        ({"To": "0415 555"}, 21211),
        ({"From": "-"}, 21603),
        ({"From": "-", "MessagingServiceSid": "MGnope"}, 21701),
        ({"Body": "-"}, 21602),
        ({"Body": "x" * 1601}, 21617),
    ],
)
def test_invalid_create_requests_get_twilio_codes(overrides: dict[str, str], code: int) -> None:
    parsed = twilio_rules.parse_create_request(_form(**overrides))
    assert isinstance(parsed, twilio_rules.TwilioApiError)
    assert parsed.code == code
    assert parsed.http_status == 400


def test_messaging_service_without_from_is_accepted() -> None:
    parsed = twilio_rules.parse_create_request(_form(From="-", MessagingServiceSid="MG" + "a" * 32))
    assert isinstance(parsed, twilio_rules.CreateRequest)
    assert parsed.from_ is None


@pytest.mark.parametrize(("to", "status", "code"), TWILIO_REFUSALS)
def test_destination_hooks_refuse_synchronously(to: str, code: int, status: int) -> None:
    outcome = twilio_rules.outcome_for(to)
    assert isinstance(outcome, twilio_rules.TwilioApiError)
    assert (outcome.code, outcome.http_status) == (code, status)
    assert outcome.to_json()["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


@pytest.mark.parametrize(
    ("to", "statuses"),
    [
        ("+14155550123", [("sent", None), ("delivered", None)]),
        ("+14155550003", [("sent", None), ("undelivered", 30003)]),
        ("+14155550005", [("failed", 30005)]),
        ("+14155550006", [("sent", None), ("undelivered", 30006)]),
        ("+14155550007", [("sent", None), ("undelivered", 30007)]),
    ],
)
def test_destination_hooks_drive_delivery_statuses(
    to: str, statuses: list[tuple[str, int | None]]
) -> None:
    outcome = twilio_rules.outcome_for(to)
    assert isinstance(outcome, tuple)
    assert [(s.status, s.error_code) for s in outcome] == statuses


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("[" * 80, 1),
        ("[" * 81, 2),
        ("é" * 160, 1),
        ("ł" * 70, 1),
        ("ł" * 71, 2),
        ("😀" * 35, 1),
        ("😀" * 36, 2),
    ],
)
def test_segment_count_follows_gsm7_and_ucs2_limits(body: str, segments: int) -> None:
    assert twilio_rules.segment_count(body) == segments


def _mail(**overrides: object) -> dict[str, object]:
    mail: dict[str, object] = {
        "personalizations": [{"to": [{"email": "ana@example.org"}], "custom_args": {"k": "v"}}],
        "from": {"email": "collections@example.com"},
        "subject": "Your balance",
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    mail.update(overrides)
    return {k: v for k, v in mail.items() if v is not None}


def test_valid_mail_has_no_errors() -> None:
    assert sendgrid_rules.validate_mail(_mail()) == []


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"personalizations": []}, ["personalizations"]),
        ({"personalizations": [{"to": []}]}, ["personalizations.0.to"]),
        ({"personalizations": [{"to": [{"email": "nope"}]}]}, ["personalizations.0.to.0.email"]),
        (
            {"personalizations": [{"to": [{"email": "a@b.co"}], "custom_args": {"n": 1}}]},
            ["personalizations.0.custom_args.n"],
        ),
        ({"from": None}, ["from.email"]),
        ({"subject": None}, ["subject"]),
        ({"content": None}, ["content"]),
        ({"content": [{"type": "text/plain", "value": ""}]}, ["content.0.value"]),
    ],
)
def test_invalid_mail_gets_sendgrid_field_errors(
    overrides: dict[str, object], fields: list[str]
) -> None:
    errors = sendgrid_rules.validate_mail(_mail(**overrides))
    assert [e.field for e in errors] == fields


def test_template_stands_in_for_subject_and_content() -> None:
    assert sendgrid_rules.validate_mail(_mail(subject=None, content=None, template_id="d-1")) == []


def test_recipients_merge_custom_args_personalization_first() -> None:
    mail = _mail(custom_args={"k": "top", "top": "1"})
    mail["personalizations"] = [
        {"to": [{"email": "a@b.co"}], "cc": [{"email": "c@d.co"}], "custom_args": {"k": "p"}}
    ]
    found = sendgrid_rules.recipients(mail)
    assert [r.email for r in found] == ["a@b.co", "c@d.co"]
    assert dict(found[0].custom_args) == {"k": "p", "top": "1"}


@pytest.mark.parametrize(
    ("email", "events"),
    [
        ("ana@example.org", ["processed", "delivered"]),
        ("bounce@example.org", ["processed", "bounce"]),
        ("bounce+7@example.org", ["processed", "bounce"]),
        ("blocked@example.org", ["processed", "bounce"]),
        ("dropped@example.org", ["dropped"]),
        ("deferred@example.org", ["processed", "deferred", "delivered"]),
        ("spamreport@example.org", ["processed", "delivered", "spamreport"]),
        ("unsubscribe@example.org", ["processed", "delivered", "unsubscribe"]),
    ],
)
def test_address_hooks_drive_events(email: str, events: list[str]) -> None:
    assert [e.event for e in sendgrid_rules.planned_events(email)] == events


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8004/twilio/status", True),
        ("http://127.9.9.9/x", True),
        ("http://localhost:8005/x", True),
        ("http://[::1]:8005/x", True),
        ("https://api.example.com/x", False),
        ("http://10.0.0.1/x", False),
        ("ftp://127.0.0.1/x", False),
        ("not a url", False),
    ],
)
def test_callbacks_go_to_loopback_only(url: str, allowed: bool) -> None:
    assert is_allowed_callback_url(url) is allowed


def test_extra_callback_hosts_can_be_named() -> None:
    assert is_allowed_callback_url("http://sms:8004/x", ["sms"])
