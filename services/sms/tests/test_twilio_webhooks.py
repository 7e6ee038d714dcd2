"""Verifying and reading Twilio webhooks, signed by the SDK and by the provider sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from dunning_channels.domain.webhook_errors import WebhookPayloadError
from dunning_sms.adapters.twilio_webhooks import TwilioSignatureVerifier
from dunning_sms.domain import parse_inbound_message, parse_status_callback, public_url
from dunning_testkit.servers import (
    WebhookRecorder,
    sandbox_server,
)
from twilio.request_validator import RequestValidator

TOKEN = "sms-webhook-test-token"
URL = "https://sms.example.com/webhooks/twilio/status?step=s-1"
CONSUMER, SENDER = "+14155550100", "+15005550006"


def _form(sid: str, *, from_: str, to: str, **fields: str) -> dict[str, str]:
    """A webhook's form as Twilio posts it: the message, the account, who wrote to whom."""
    envelope = {"MessageSid": sid, "AccountSid": "AC" + "2" * 32, "From": from_, "To": to}
    return envelope | fields


STATUS = _form(
    "SM" + "1" * 32,
    from_=SENDER,
    to=CONSUMER,
    SmsSid="SM" + "1" * 32,
    MessageStatus="undelivered",
    SmsStatus="undelivered",
    ErrorCode="30003",
    ApiVersion="2010-04-01",
)


def _signed(params: dict[str, str], url: str = URL) -> str:
    return str(RequestValidator(TOKEN).compute_signature(url, params))


def test_sdk_signature_verifies() -> None:
    assert TwilioSignatureVerifier(TOKEN).verify(URL, STATUS, _signed(STATUS))


@pytest.mark.parametrize(
    ("url", "params", "signature"),
    [
        (URL, {**STATUS, "MessageStatus": "delivered"}, None),
        (URL.replace("s-1", "s-2"), STATUS, None),
        (URL, STATUS, "bm90IGEgc2lnbmF0dXJl"),
        (URL, STATUS, ""),
    ],
)
def test_tampered_requests_fail(url: str, params: dict[str, str], signature: str | None) -> None:
    verifier = TwilioSignatureVerifier(TOKEN)
    signature = _signed(STATUS) if signature is None else signature
    assert not verifier.verify(url, params, signature)


def test_other_accounts_token_fails() -> None:
    assert not TwilioSignatureVerifier("other").verify(URL, STATUS, _signed(STATUS))


def test_public_url_rebuilds_what_twilio_called() -> None:
    assert public_url("https://sms.example.com/", "/webhooks/twilio/status", "step=s-1") == URL
    assert public_url("http://127.0.0.1:8004", "/x") == "http://127.0.0.1:8004/x"


def test_status_callback_is_parsed_without_pii_in_repr() -> None:
    callback = parse_status_callback(STATUS)
    assert (callback.message_sid, callback.status, callback.error_code) == (
        STATUS["MessageSid"],
        "undelivered",
        "30003",
    )
    assert callback.to == CONSUMER
    assert "+1415" not in repr(callback)
    assert "+1500" not in repr(callback)


def test_status_callback_without_status_is_refused() -> None:
    with pytest.raises(WebhookPayloadError):
        parse_status_callback({k: v for k, v in STATUS.items() if "Status" not in k})


def test_inbound_message_is_parsed_without_pii_in_repr() -> None:
    inbound = parse_inbound_message(
        _form("SM" + "3" * 32, from_=CONSUMER, to=SENDER, Body="STOP please", NumMedia="0")
    )
    assert (inbound.from_, inbound.body, inbound.opt_out_type) == (
        CONSUMER,
        "STOP please",
        None,
    )
    assert "STOP" not in repr(inbound)
    assert "+1415" not in repr(inbound)


def test_inbound_message_without_sender_is_refused() -> None:
    with pytest.raises(WebhookPayloadError):
        parse_inbound_message({"MessageSid": "SM1", "AccountSid": "AC1", "To": "+1500"})


@pytest.fixture(scope="module")
def sandbox(receiver: WebhookRecorder) -> Iterator[str]:
    with sandbox_server(
        twilio_auth_token=TOKEN,
        twilio_inbound_url=f"{receiver.base_url}/webhooks/twilio/inbound",
    ) as url:
        yield url


def test_sandbox_inbound_stop_verifies_and_parses(sandbox: str, receiver: WebhookRecorder) -> None:
    answer = httpx.post(
        f"{sandbox}/_sandbox/twilio/inbound",
        json={"from": "+14155550142", "to": "+15005550006", "body": "STOP"},
    ).json()
    request = receiver.requests("/webhooks/twilio/inbound")[-1]
    form = request.form()
    verifier = TwilioSignatureVerifier(TOKEN)
    # the receiver sees http://127.0.0.1:<port>/…, which is also what the sandbox called
    url = public_url(receiver.base_url, request.path)
    assert verifier.verify(url, form, request.headers["x-twilio-signature"])
    assert not verifier.verify(
        url, {**form, "Body": "START"}, request.headers["x-twilio-signature"]
    )
    inbound = parse_inbound_message(form)
    assert inbound.message_sid == answer["message_sid"]
    assert (inbound.from_, inbound.body) == ("+14155550142", "STOP")
