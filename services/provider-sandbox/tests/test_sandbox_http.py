"""The sandbox over real HTTP: official SDKs send to it, a receiver gets its webhooks.

One sandbox and one receiver serve the whole module; each test isolates its data by
its own callback path, destination number or custom argument.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from dunning_testkit.servers import (
    TWILIO_REFUSALS,
    RecordedRequest,
    WebhookRecorder,
    recording_server,
    sandbox_server,
    slow_server,
)
from python_http_client.exceptions import BadRequestsError, UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from sendgrid.helpers.mail import CustomArg, Mail
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token"
API_KEY = "SG.test-key"
SENDER = "+15005550006"


class SandboxHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's documented extension point: send api.twilio.com requests to the sandbox."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=10)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(
            method, url.replace("https://api.twilio.com", self.base_url), *args, **kwargs
        )


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookRecorder]:
    with recording_server(body="<Response/>", media_type="text/xml") as recorder:
        yield recorder


@pytest.fixture(scope="module")
def sandbox(receiver: WebhookRecorder) -> Iterator[str]:
    base = receiver.base_url
    with sandbox_server(
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        sendgrid_api_key=API_KEY,
        sendgrid_event_webhook_url=f"{base}/sendgrid/events",
        twilio_inbound_url=f"{base}/twilio/inbound",
        callback_delay_ms=5,
        callback_retry_base_ms=20,
        event_batch_interval_ms=20,
    ) as url:
        yield url


@pytest.fixture(scope="module")
def twilio(sandbox: str) -> Client:
    return Client(ACCOUNT, TOKEN, http_client=SandboxHttpClient(sandbox))


@pytest.fixture(scope="module")
def sendgrid_client(sandbox: str) -> SendGridAPIClient:
    return SendGridAPIClient(API_KEY, host=sandbox)


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


def test_bad_twilio_credentials_get_401_code_20003(sandbox: str) -> None:
    client = Client(ACCOUNT, "wrong", http_client=SandboxHttpClient(sandbox))
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


def _mail(to: str, run: str) -> Mail:
    mail = Mail(
        from_email="collections@example.com",
        to_emails=to,
        subject="Your balance",
        plain_text_content="Hello",
    )
    mail.custom_arg = CustomArg("run", run, p=0)
    mail.custom_arg = CustomArg("step_id", "step-1", p=0)
    return mail


def _events_of(receiver: WebhookRecorder, run: str, count: int) -> list[dict[str, Any]]:
    def mine(requests: list[RecordedRequest]) -> list[dict[str, Any]]:
        return [e for r in requests for e in orjson.loads(r.body) if e.get("run") == run]

    return mine(receiver.wait_for(lambda rs: len(mine(rs)) >= count, path="/sendgrid/events"))


def test_sdk_mail_send_gets_message_id_and_signed_events(
    sendgrid_client: SendGridAPIClient, sandbox: str, receiver: WebhookRecorder
) -> None:
    run = uuid.uuid4().hex
    response = sendgrid_client.send(_mail("ana@example.org", run))
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]
    assert len(message_id) == 22

    events = _events_of(receiver, run, 2)
    assert sorted(e["event"] for e in events) == ["delivered", "processed"]
    for event in events:
        assert event["email"] == "ana@example.org"
        assert event["sg_message_id"].split(".")[0] == message_id
        assert event["step_id"] == "step-1"
        assert isinstance(event["timestamp"], int)
        assert event["sg_event_id"]

    public_key = httpx.get(f"{sandbox}/_sandbox/sendgrid/public-key").json()["public_key"]
    verifier = EventWebhook(public_key)
    batches = [
        r
        for r in receiver.requests("/sendgrid/events")
        if any(e.get("run") == run for e in orjson.loads(r.body))
    ]
    for batch in batches:
        assert verifier.verify_signature(
            batch.body.decode(),
            batch.headers[EventWebhookHeader.SIGNATURE.lower()],
            batch.headers[EventWebhookHeader.TIMESTAMP.lower()],
        )
    batch = batches[0]
    signature = batch.headers[EventWebhookHeader.SIGNATURE.lower()]
    timestamp = batch.headers[EventWebhookHeader.TIMESTAMP.lower()]
    tampered = batch.body.decode().replace('"processed"', '"delivered"', 1)
    tampered = tampered if tampered != batch.body.decode() else batch.body.decode() + " "
    assert not verifier.verify_signature(tampered, signature, timestamp)
    assert not verifier.verify_signature(batch.body.decode(), signature, str(int(timestamp) + 1))


def test_bounce_hook_reports_a_bounce(
    sendgrid_client: SendGridAPIClient, receiver: WebhookRecorder
) -> None:
    run = uuid.uuid4().hex
    sendgrid_client.send(_mail("bounce@example.org", run))
    events = _events_of(receiver, run, 2)
    bounce = next(e for e in events if e["event"] == "bounce")
    assert (bounce["type"], bounce["status"]) == ("bounce", "5.1.1")


def test_invalid_mail_gets_sendgrid_error_shape(sendgrid_client: SendGridAPIClient) -> None:
    with pytest.raises(BadRequestsError) as caught:
        sendgrid_client.send({"personalizations": [{"to": [{"email": "nope"}]}]})
    errors = caught.value.to_dict["errors"]
    assert {e["field"] for e in errors} >= {"personalizations.0.to.0.email", "from.email"}
    assert all(set(e) == {"message", "field", "help"} for e in errors)


def test_bad_sendgrid_key_gets_401(sandbox: str) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        SendGridAPIClient("SG.wrong", host=sandbox).send(_mail("ana@example.org", "x"))
    assert caught.value.status_code == 401
    assert caught.value.to_dict["errors"][0]["field"] is None


def test_simulated_unsubscribe_carries_the_message_custom_args(
    sendgrid_client: SendGridAPIClient, sandbox: str, receiver: WebhookRecorder
) -> None:
    run = uuid.uuid4().hex
    address = f"consumer-{run[:8]}@example.org"
    message_id = sendgrid_client.send(_mail(address, run)).headers["X-Message-Id"]
    answer = httpx.post(
        f"{sandbox}/_sandbox/sendgrid/events", json={"email": address, "event": "unsubscribe"}
    )
    assert answer.status_code == 202
    events = _events_of(receiver, run, 3)
    unsubscribe = next(e for e in events if e["event"] == "unsubscribe")
    assert unsubscribe["sg_message_id"].startswith(message_id + ".")
    assert unsubscribe["email"] == address


def test_simulated_open_and_click_reach_the_event_webhook(
    sendgrid_client: SendGridAPIClient, sandbox: str, receiver: WebhookRecorder
) -> None:
    run = uuid.uuid4().hex
    address = f"reader-{run[:8]}@example.org"
    sendgrid_client.send(_mail(address, run))
    for event in ("open", "click"):
        sent = {"email": address, "event": event}
        assert httpx.post(f"{sandbox}/_sandbox/sendgrid/events", json=sent).status_code == 202
    events = _events_of(receiver, run, 4)
    click = next(e for e in events if e["event"] == "click")
    assert click["url"].startswith("https://")
    assert any(e["event"] == "open" for e in events)


def test_public_key_is_also_served_on_sendgrids_settings_endpoint(sandbox: str) -> None:
    mine = httpx.get(f"{sandbox}/_sandbox/sendgrid/public-key").json()["public_key"]
    theirs = httpx.get(
        f"{sandbox}/v3/user/webhooks/event/settings/signed",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()["public_key"]
    assert mine == theirs


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


def test_each_message_says_how_many_of_its_reports_are_still_to_come(
    twilio: Client, sendgrid_client: SendGridAPIClient, sandbox: str
) -> None:
    """The witness of a run's end: a message whose callbacks the sandbox still holds has
    not had its final word yet (``unreported`` > 0); once all are handed over, 0."""
    with slow_server(delay_s=1.0) as slow:  # each callback answered a second late
        sid = twilio.messages.create(
            to="+14155551299", from_=SENDER, body="Hi", status_callback=f"{slow}/status"
        ).sid
        run = uuid.uuid4().hex
        message_id = sendgrid_client.send(_mail("una@example.org", run)).headers["X-Message-Id"]

        def listed() -> dict[str, dict[str, Any]]:
            found = httpx.get(f"{sandbox}/_sandbox/messages", params={"limit": 1000}).json()
            return {m.get("sid") or m.get("message_id"): m for m in found["messages"]}

        assert listed()[sid]["unreported"] == 2  # sent, delivered: neither handed over yet
        assert httpx.post(f"{sandbox}/_sandbox/drain").json()["drained"] is True
    after = listed()
    assert after[sid]["unreported"] == 0
    assert after[message_id]["unreported"] == 0  # processed, delivered: both posted


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
