"""The Twilio sender against the provider sandbox over real HTTP (official SDK, aiohttp)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from dunning_sms.adapters.twilio_sender import (
    SmsAccepted,
    SmsRejected,
    SmsSendResult,
    SmsTransient,
    TwilioSmsSender,
    classify_error,
)
from dunning_sms.adapters.twilio_webhooks import TwilioSignatureVerifier
from dunning_sms.domain import parse_status_callback
from dunning_testkit.servers import (
    WebhookRecorder,
    sandbox_server,
)

ACCOUNT = "AC" + "d" * 32
TOKEN = "sms-test-auth-token"
API_KEY_SID = "SK" + "e" * 32
API_KEY_SECRET = "sms-test-api-key-secret"
SENDER = "+15005550006"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with sandbox_server(
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_api_key_sid=API_KEY_SID,
        twilio_api_key_secret=API_KEY_SECRET,
        callback_delay_ms=5,
    ) as url:
        yield url


def _sender(base_url: str, **overrides: object) -> TwilioSmsSender:
    options: dict[str, object] = {"account_sid": ACCOUNT, "auth_token": TOKEN}
    options.update(overrides)
    return TwilioSmsSender(base_url=base_url, **options)  # type: ignore[arg-type]


async def _send_hi(base_url: str, to: str = "+14155550123", **overrides: object) -> SmsSendResult:
    """One "Hi" from SENDER to ``to``, by a sender of its own."""
    async with _sender(base_url, **overrides) as sender:
        return await sender.send(to=to, body="Hi", from_=SENDER)


async def test_send_returns_the_sid_and_signed_callbacks_follow(
    sandbox: str, receiver: WebhookRecorder
) -> None:
    path = f"/twilio/status/{uuid.uuid4().hex}"
    async with _sender(sandbox) as sender:
        result = await sender.send(
            to="+14155550123",
            body="Your payment is due. Reply STOP to opt out.",
            from_=SENDER,
            status_callback=receiver.base_url + path,
        )
    assert isinstance(result, SmsAccepted)
    assert result.provider_message_id.startswith("SM")
    assert result.status == "queued"

    seen = await asyncio.to_thread(receiver.wait_for, lambda rs: len(rs) == 2, path)
    verifier = TwilioSignatureVerifier(TOKEN)
    callbacks = []
    for request in seen:
        form = request.form()
        assert verifier.verify(request.url, form, request.headers["x-twilio-signature"])
        callbacks.append(parse_status_callback(form))
    assert [c.status for c in callbacks] == ["sent", "delivered"]
    assert {c.message_sid for c in callbacks} == {result.provider_message_id}


async def test_api_key_credentials_are_accepted(sandbox: str) -> None:
    result = await _send_hi(
        sandbox,
        "+14155550124",
        auth_token=None,
        api_key_sid=API_KEY_SID,
        api_key_secret=API_KEY_SECRET,
    )
    assert isinstance(result, SmsAccepted)


async def test_messaging_service_send_is_accepted(sandbox: str) -> None:
    async with _sender(sandbox) as sender:
        result = await sender.send(
            to="+14155550125", body="Hi", messaging_service_sid="MG" + "f" * 32
        )
    assert isinstance(result, SmsAccepted)
    assert result.status == "accepted"


@pytest.mark.parametrize(
    ("to", "code", "opted_out"),
    [
        ("+15005550001", "21211", False),
        ("+14155550004", "21610", True),
        ("+14155550009", "21614", False),
        ("+1415", "21211", False),
    ],
)
async def test_permanent_twilio_errors_become_rejections(
    sandbox: str, to: str, code: str, opted_out: bool
) -> None:
    result = await _send_hi(sandbox, to)
    assert isinstance(result, SmsRejected)
    assert (result.code, result.http_status, result.opted_out) == (code, 400, opted_out)
    assert "415" not in result.message
    assert "500" not in result.message


@pytest.mark.parametrize(
    ("to", "kind", "status"),
    [("+14155550429", "rate_limited", 429), ("+14155550500", "server_error", 500)],
)
async def test_transient_twilio_errors_are_retryable(
    sandbox: str, to: str, kind: str, status: int
) -> None:
    result = await _send_hi(sandbox, to)
    assert isinstance(result, SmsTransient)
    assert (result.kind, result.http_status) == (kind, status)


async def test_the_retry_after_twilio_asks_for_is_kept(sandbox: str) -> None:
    to = "+1415555" + uuid.uuid4().hex[:4].translate(str.maketrans("abcdef", "123456"))
    fault = {"destinations": [to], "status": 429, "retry_after_s": 7, "times": 1}
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{sandbox}/_sandbox/faults", json=fault)).status_code == 201
    async with _sender(sandbox) as sender:
        limited = await sender.send(to=to, body="Hi", from_=SENDER)
        passed = await sender.send(to=to, body="Hi", from_=SENDER)
    assert isinstance(limited, SmsTransient)
    assert (limited.kind, limited.retry_after_s) == ("rate_limited", 7.0)
    assert isinstance(passed, SmsAccepted)


async def test_refused_credentials_are_an_auth_failure(sandbox: str) -> None:
    result = await _send_hi(sandbox, auth_token="wrong")
    assert isinstance(result, SmsTransient)
    assert (result.kind, result.code, result.http_status) == ("auth", "20003", 401)


async def test_unreachable_twilio_is_a_network_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = await _send_hi(f"http://127.0.0.1:{closed_port}")
    assert isinstance(result, SmsTransient)
    assert result.kind == "network"


async def test_slow_twilio_is_a_timeout(slow: str) -> None:
    result = await _send_hi(slow, timeout_s=0.2)
    assert isinstance(result, SmsTransient)
    assert result.kind == "timeout"


async def test_a_call_is_cut_at_the_time_left_below_the_client_timeout(slow: str) -> None:
    async with _sender(slow, timeout_s=10.0) as sender:
        started = time.monotonic()
        result = await sender.send(to="+14155550123", body="Hi", from_=SENDER, timeout_s=0.2)
    assert isinstance(result, SmsTransient)
    assert result.kind == "timeout"
    assert time.monotonic() - started < 1.5  # the slow server answers after 2 s


async def test_concurrent_sends_share_one_client(sandbox: str) -> None:
    async with _sender(sandbox) as sender:
        results = await asyncio.gather(
            *(sender.send(to=f"+1415556{i:04d}", body="Hi", from_=SENDER) for i in range(100, 300))
        )
    sids = {r.provider_message_id for r in results if isinstance(r, SmsAccepted)}
    assert len(sids) == 200


def test_sender_needs_credentials_and_a_sender() -> None:
    with pytest.raises(ValueError, match="auth token"):
        TwilioSmsSender(account_sid=ACCOUNT)


async def test_send_needs_a_from_number_or_service() -> None:
    async with TwilioSmsSender(account_sid=ACCOUNT, auth_token=TOKEN) as sender:
        with pytest.raises(ValueError, match="From"):
            await sender.send(to="+14155550123", body="Hi")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21211, SmsRejected),
        (400, 21610, SmsRejected),
        (403, 20003, SmsTransient),
        (404, 20404, SmsTransient),
        (429, 20429, SmsTransient),
        (503, None, SmsTransient),
    ],
)
def test_error_classification(status: int, code: int | None, expected: type) -> None:
    result = classify_error(status, code, "The 'To' number +1 415 555 0100 is not valid")
    assert isinstance(result, expected)
    assert "555" not in result.message


async def test_a_number_that_texted_stop_is_an_opt_out_rejection_even_unheard(
    sandbox: str,
) -> None:
    # Twilio's Advanced Opt-Out: the STOP counts even when our inbound webhook missed it.
    consumer = "+14155550189"
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox}/_sandbox/twilio/inbound",
            json={"from": consumer, "to": SENDER, "body": "STOP", "url": "http://127.0.0.1:9/"},
        )
    assert answer.json()["delivered"] is False
    async with _sender(sandbox) as sender:
        result = await sender.send(to=consumer, body="Hi", from_=SENDER)
    assert isinstance(result, SmsRejected)
    assert (result.code, result.opted_out) == ("21610", True)
