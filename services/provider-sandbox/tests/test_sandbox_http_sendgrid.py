"""The sandbox over real HTTP: SendGrid's official SDK sends to it, a receiver gets its event
webhooks (Twilio's: test_sandbox_http.py).

One sandbox and one receiver serve the whole module; each test isolates its data by
its own custom argument.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest
from dunning_testkit.servers import RecordedRequest, WebhookRecorder, slow_server
from python_http_client.exceptions import BadRequestsError, UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from sendgrid.helpers.mail import CustomArg, Mail
from twilio.rest import Client

SENDER = "+15005550006"
ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token"
API_KEY = "SG.test-key"


@pytest.fixture(scope="module")
def sandbox(sandbox_over_http: str) -> str:
    return sandbox_over_http


@pytest.fixture(scope="module")
def sendgrid_client(sandbox: str) -> SendGridAPIClient:
    return SendGridAPIClient(API_KEY, host=sandbox)


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
