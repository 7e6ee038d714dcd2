"""The SendGrid sender against the provider sandbox over real HTTP (official SDK)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest
from dunning_email.adapters.sendgrid_sender import (
    EmailAccepted,
    EmailRejected,
    EmailTransient,
    SendGridEmailSender,
    build_mail,
    classify_error,
)
from dunning_email.adapters.sendgrid_webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendGridSignatureVerifier,
)
from dunning_email.domain import parse_event_batch
from dunning_testkit.servers import (
    RecordedRequest,
    WebhookRecorder,
    sandbox_server,
)

API_KEY = "SG.email-test-key"
FROM = "collections@example.com"
UNSUBSCRIBE = "https://email.example.com/unsubscribe/t0k3n"


@pytest.fixture(scope="module")
def sandbox(receiver: WebhookRecorder) -> Iterator[str]:
    with sandbox_server(
        sendgrid_api_key=API_KEY,
        sendgrid_event_webhook_url=f"{receiver.base_url}/webhooks/sendgrid/events",
        callback_delay_ms=5,
        event_batch_interval_ms=20,
    ) as url:
        yield url


async def _send(sender: SendGridEmailSender, to: str, run: str) -> object:
    return await sender.send(
        to=to,
        from_email=FROM,
        from_name="Acme Recovery Services",
        subject="About your balance",
        text="Hello. Unsubscribe: " + UNSUBSCRIBE,
        html="<p>Hello.</p>",
        unsubscribe_url=UNSUBSCRIBE,
        unsubscribe_mailto="unsubscribe@example.com",
        custom_args={"step_id": f"step-{run}", "account_id": "acct-42"},
    )


def test_mail_body_has_one_click_unsubscribe_and_custom_args() -> None:
    body = build_mail(
        to="ana@example.org",
        from_email=FROM,
        from_name="Acme",
        subject="S",
        text="T",
        html=None,
        unsubscribe_url=UNSUBSCRIBE,
        unsubscribe_mailto=None,
        custom_args={"step_id": "s-1", "account_id": "a-1"},
        categories=["dunning"],
    )
    assert body["headers"] == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert body["personalizations"][0]["custom_args"] == {"step_id": "s-1", "account_id": "a-1"}
    assert body["personalizations"][0]["to"] == [{"email": "ana@example.org"}]
    assert body["content"] == [{"type": "text/plain", "value": "T"}]
    assert body["categories"] == ["dunning"]


async def test_send_returns_message_id_and_signed_events_carry_custom_args(
    sandbox: str, receiver: WebhookRecorder
) -> None:
    run = uuid.uuid4().hex
    sender = SendGridEmailSender(api_key=API_KEY, host=sandbox)
    result = await _send(sender, "ana@example.org", run)
    assert isinstance(result, EmailAccepted)
    assert len(result.provider_message_id) == 22

    async with httpx.AsyncClient(base_url=sandbox) as client:
        listing = await client.get("/_sandbox/messages", params={"channel": "email"})
        public_key = (await client.get("/_sandbox/sendgrid/public-key")).json()["public_key"]
    accepted = listing.json()
    record = next(m for m in accepted["messages"] if m["message_id"] == result.provider_message_id)
    assert record["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert record["headers"]["List-Unsubscribe"].startswith(f"<{UNSUBSCRIBE}>")

    def mine(requests: list[RecordedRequest]) -> int:
        return sum(
            e.get("step_id") == f"step-{run}" for r in requests for e in orjson.loads(r.body)
        )

    path = "/webhooks/sendgrid/events"
    await asyncio.to_thread(receiver.wait_for, lambda rs: mine(rs) == 2, path)
    verifier = SendGridSignatureVerifier(public_key)
    events = []
    for request in receiver.requests(path):
        headers = {k.lower(): v for k, v in request.headers.items()}
        signature, timestamp = headers[SIGNATURE_HEADER.lower()], headers[TIMESTAMP_HEADER.lower()]
        assert verifier.verify(request.body, signature, timestamp)
        events += [e for e in parse_event_batch(request.body) if e.custom_args.get("step_id")]
    mine_events = [e for e in events if e.custom_args["step_id"] == f"step-{run}"]
    assert sorted(e.event for e in mine_events) == ["delivered", "processed"]
    assert {e.provider_message_id for e in mine_events} == {result.provider_message_id}
    assert all(e.custom_args["account_id"] == "acct-42" for e in mine_events)


async def test_invalid_request_is_rejected_with_fields_and_no_addresses(sandbox: str) -> None:
    sender = SendGridEmailSender(api_key=API_KEY, host=sandbox)
    result = await _send(sender, "ana@invalid", "x")
    assert isinstance(result, EmailRejected)
    assert result.http_status == 400
    assert result.fields == ("personalizations.0.to.0.email",)
    assert "ana@invalid" not in result.message


async def test_address_the_sdk_cannot_build_is_rejected_before_sending() -> None:
    sender = SendGridEmailSender(api_key=API_KEY, host="http://127.0.0.1:9")
    result = await _send(sender, "not-an-address", "x")
    assert isinstance(result, EmailRejected)
    assert (result.code, result.http_status) == ("invalid_message", None)


async def test_refused_api_key_is_an_auth_failure(sandbox: str) -> None:
    sender = SendGridEmailSender(api_key="SG.wrong", host=sandbox)
    result = await _send(sender, "ana@example.org", "x")
    assert isinstance(result, EmailTransient)
    assert (result.kind, result.http_status) == ("auth", 401)


async def test_unreachable_sendgrid_is_a_network_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = SendGridEmailSender(api_key=API_KEY, host=f"http://127.0.0.1:{closed_port}")
    result = await _send(sender, "ana@example.org", "x")
    assert isinstance(result, EmailTransient)
    assert result.kind == "network"


async def test_slow_sendgrid_is_a_timeout(slow: str) -> None:
    sender = SendGridEmailSender(api_key=API_KEY, host=slow, timeout_s=0.2)
    result = await _send(sender, "ana@example.org", "x")
    assert isinstance(result, EmailTransient)
    assert result.kind == "timeout"


async def test_a_call_is_cut_at_the_time_left_below_the_client_timeout(slow: str) -> None:
    sender = SendGridEmailSender(api_key=API_KEY, host=slow, timeout_s=10.0)
    started = time.monotonic()
    result = await sender.send_body({"personalizations": []}, timeout_s=0.2)
    assert isinstance(result, EmailTransient)
    assert result.kind == "timeout"
    assert time.monotonic() - started < 1.5  # the slow server answers after 2 s


async def test_concurrent_sends_each_get_an_id(sandbox: str) -> None:
    sender = SendGridEmailSender(api_key=API_KEY, host=sandbox, max_concurrency=16)
    results = await asyncio.gather(*(_send(sender, f"c{i}@example.org", "x") for i in range(100)))
    ids = {r.provider_message_id for r in results if isinstance(r, EmailAccepted)}
    assert len(ids) == 100


@pytest.mark.parametrize(
    ("status", "expected", "kind"),
    [
        (400, EmailRejected, None),
        (413, EmailRejected, None),
        (401, EmailTransient, "auth"),
        (403, EmailTransient, "auth"),
        (429, EmailTransient, "rate_limited"),
        (500, EmailTransient, "server_error"),
        (503, EmailTransient, "server_error"),
    ],
)
def test_error_classification(status: int, expected: type, kind: str | None) -> None:
    body = orjson.dumps(
        {
            "errors": [
                {"message": "duplicate a@b.co in personalizations", "field": "x", "help": None}
            ]
        }
    )
    result = classify_error(status, body, {"x-ratelimit-reset": "1000060"}, now=1_000_000.0)
    assert isinstance(result, expected)
    assert "a@b.co" not in result.message
    if isinstance(result, EmailTransient):
        assert result.kind == kind
        assert result.retry_after_s == (60.0 if status == 429 else None)


def test_retry_after_wins_over_the_rate_limit_reset_and_counts_on_5xx() -> None:
    limited = classify_error(
        429, b"{}", {"Retry-After": "5", "X-RateLimit-Reset": "1000060"}, now=1_000_000.0
    )
    unavailable = classify_error(503, b"{}", {"Retry-After": "9"}, now=1_000_000.0)
    assert isinstance(limited, EmailTransient)
    assert isinstance(unavailable, EmailTransient)
    assert (limited.retry_after_s, unavailable.retry_after_s) == (5.0, 9.0)


async def test_a_rate_limited_address_gets_the_wait_sendgrid_asks_for(sandbox: str) -> None:
    to = f"slow-{uuid.uuid4().hex[:8]}@example.com"
    fault = {"destinations": [to], "status": 429, "retry_after_s": 4, "times": 1}
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{sandbox}/_sandbox/faults", json=fault)).status_code == 201
    sender = SendGridEmailSender(api_key=API_KEY, host=sandbox)
    limited = await _send(sender, to, uuid.uuid4().hex)
    passed = await _send(sender, to, uuid.uuid4().hex)
    assert isinstance(limited, EmailTransient)
    assert (limited.kind, limited.http_status, limited.retry_after_s) == ("rate_limited", 429, 4.0)
    assert isinstance(passed, EmailAccepted)


def test_non_json_error_body_is_kept_short_and_redacted() -> None:
    result = classify_error(502, b"<html>bad gateway for a@b.co</html>")
    assert isinstance(result, EmailTransient)
    assert "a@b.co" not in result.message
