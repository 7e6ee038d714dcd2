"""The sandbox over real HTTP: Twilio's official SDK sends to it, a receiver gets its webhooks
(SendGrid's: test_sandbox_http_sendgrid.py).

One sandbox and one receiver serve the whole module; each test isolates its data by
its own callback path, destination number or custom argument.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from dunning_testkit.servers import (
    TWILIO_REFUSALS,
    RecordedRequest,
    WebhookRecorder,
)
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token"
API_KEY = "SG.test-key"
SENDER = "+15005550006"


@pytest.fixture(scope="module")
def sandbox(sandbox_over_http: str) -> str:
    return sandbox_over_http


def _callback_url(receiver: WebhookRecorder) -> tuple[str, str]:
    path = f"/twilio/status/{uuid.uuid4().hex}"
    return f"{receiver.base_url}{path}", path


def _statuses(requests: list[RecordedRequest]) -> list[str]:
    return [r.form()["MessageStatus"] for r in requests]


def _twilio_valid(request: RecordedRequest, token: str = TOKEN) -> bool:
    return bool(
        RequestValidator(token).validate(
            request.url, request.form(), request.headers["x-twilio-signature"]
        )
    )


def test_health(sandbox: str) -> None:
    response = httpx.get(f"{sandbox}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_sdk_send_gets_a_sid_and_signed_callbacks_in_order(
    twilio: Client, receiver: WebhookRecorder
) -> None:
    url, path = _callback_url(receiver)
    message = twilio.messages.create(
        to="+14155550123", from_=SENDER, body="Hello", status_callback=url
    )
    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert message.account_sid == ACCOUNT
    assert message.num_segments == "1"
    assert message.date_created is not None

    seen = receiver.wait_for(lambda rs: len(rs) == 2, path=path)
    assert _statuses(seen) == ["sent", "delivered"]
    for request in seen:
        form = request.form()
        assert form["MessageSid"] == form["SmsSid"] == message.sid
        assert form["AccountSid"] == ACCOUNT
        assert (form["To"], form["From"], form["ApiVersion"]) == (
            "+14155550123",
            SENDER,
            "2010-04-01",
        )
        assert _twilio_valid(request)
    fetched = twilio.messages(message.sid).fetch()
    assert fetched.status == "delivered"


def test_tampered_status_callback_fails_verification(
    twilio: Client, receiver: WebhookRecorder
) -> None:
    url, path = _callback_url(receiver)
    twilio.messages.create(to="+14155550124", from_=SENDER, body="Hi", status_callback=url)
    request = receiver.wait_for(lambda rs: len(rs) == 2, path=path)[-1]
    form, signature = request.form(), request.headers["x-twilio-signature"]
    validator = RequestValidator(TOKEN)
    assert validator.validate(request.url, form, signature)
    assert not validator.validate(request.url, {**form, "MessageStatus": "failed"}, signature)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert not validator.validate(request.url, form, flipped)
    assert not validator.validate(request.url + "?x=1", form, signature)
    assert not RequestValidator("wrong-token").validate(request.url, form, signature)


@pytest.mark.parametrize(
    ("to", "statuses", "error_code"),
    [
        ("+14155550003", ["sent", "undelivered"], "30003"),
        ("+14155550005", ["failed"], "30005"),
    ],
)
def test_destination_hooks_report_delivery_failures(
    twilio: Client, receiver: WebhookRecorder, to: str, statuses: list[str], error_code: str
) -> None:
    url, path = _callback_url(receiver)
    twilio.messages.create(to=to, from_=SENDER, body="Hi", status_callback=url)
    seen = receiver.wait_for(lambda rs: len(rs) == len(statuses), path=path)
    assert _statuses(seen) == statuses
    assert seen[-1].form()["ErrorCode"] == error_code
    assert "ErrorCode" not in seen[0].form() or len(seen) == 1


@pytest.mark.parametrize(("to", "status", "code"), [*TWILIO_REFUSALS, ("not-a-number", 400, 21211)])
def test_twilio_errors_reach_the_sdk_in_twilio_shape(
    twilio: Client, to: str, status: int, code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to=to, from_=SENDER, body="Hi")
    assert (caught.value.status, caught.value.code) == (status, code)


def test_bad_twilio_credentials_get_401_code_20003(twilio: Client) -> None:
    client = Client(ACCOUNT, "wrong", http_client=twilio.http_client)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="+14155550123", from_=SENDER, body="Hi")
    assert (caught.value.status, caught.value.code) == (401, 20003)


def test_non_loopback_status_callback_is_refused(twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(
            to="+14155550123", from_=SENDER, body="Hi", status_callback="https://example.com/cb"
        )
    assert caught.value.code == 21609


def test_messaging_service_send_is_accepted_then_sent_from_the_pool(
    twilio: Client, receiver: WebhookRecorder
) -> None:
    url, path = _callback_url(receiver)
    message = twilio.messages.create(
        to="+14155550125", messaging_service_sid="MG" + "c" * 32, body="Hi", status_callback=url
    )
    assert message.status == "accepted"
    seen = receiver.wait_for(lambda rs: len(rs) == 2, path=path)
    assert seen[0].form()["MessagingServiceSid"] == "MG" + "c" * 32
    assert all(_twilio_valid(r) for r in seen)


def test_callbacks_are_retried_until_the_receiver_answers(
    twilio: Client, receiver: WebhookRecorder
) -> None:
    url, path = _callback_url(receiver)
    receiver.fail_first = 2
    twilio.messages.create(to="+14155550126", from_=SENDER, body="Hi", status_callback=url)
    seen = receiver.wait_for(lambda rs: sum(r.answered == 200 for r in rs) == 2, path=path)
    assert [r.answered for r in seen] == [503, 503, 200, 200]
    assert _statuses([r for r in seen if r.answered == 200]) == ["sent", "delivered"]


def test_simulated_inbound_reply_is_posted_signed(sandbox: str, receiver: WebhookRecorder) -> None:
    answer = httpx.post(
        f"{sandbox}/_sandbox/twilio/inbound",
        json={"from": "+14155550177", "to": SENDER, "body": "STOP"},
    )
    assert answer.status_code == 200
    assert answer.json()["delivered"] is True
    assert answer.json()["response_body"] == "<Response/>"
    sid = answer.json()["message_sid"]
    request = next(r for r in receiver.requests("/twilio/inbound") if r.form()["MessageSid"] == sid)
    form = request.form()
    assert (form["From"], form["To"], form["Body"], form["NumMedia"]) == (
        "+14155550177",
        SENDER,
        "STOP",
        "0",
    )
    assert form["AccountSid"] == ACCOUNT
    assert _twilio_valid(request)


def test_drain_waits_until_every_status_is_reported(
    twilio: Client, sandbox: str, receiver: WebhookRecorder
) -> None:
    url, path = _callback_url(receiver)
    for i in range(5):
        twilio.messages.create(
            to=f"+1415555{i + 1200}", from_=SENDER, body="Hi", status_callback=url
        )
    drained = httpx.post(f"{sandbox}/_sandbox/drain").json()
    assert drained["drained"] is True
    assert len(receiver.requests(path)) == 10


def test_messages_listing_counts_and_reset(twilio: Client, sandbox: str) -> None:
    twilio.messages.create(to="+14155550188", from_=SENDER, body="Listed")
    listing = httpx.get(f"{sandbox}/_sandbox/messages", params={"channel": "sms"}).json()
    assert listing["counts"]["sms.accepted"] >= 1
    assert listing["messages"][0]["to"] == "+14155550188"
    assert "webhooks" in listing["counts"]
    drained = httpx.post(f"{sandbox}/_sandbox/drain").json()
    assert drained["drained"] is True

    assert httpx.post(f"{sandbox}/_sandbox/reset").status_code == 200
    after = httpx.get(f"{sandbox}/_sandbox/messages").json()
    assert after["stored"] == 0
    assert after["messages"] == []
