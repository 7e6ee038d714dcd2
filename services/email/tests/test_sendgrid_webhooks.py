"""Verifying and reading SendGrid Event Webhook batches."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dunning_channels.domain.webhook_errors import WebhookPayloadError
from dunning_email.adapters.sendgrid_sender import build_mail
from dunning_email.adapters.sendgrid_webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendGridSignatureVerifier,
)
from dunning_email.domain import parse_event_batch
from dunning_testkit.servers import (
    WebhookRecorder,
    sandbox_server,
)

NOW = 1_750_000_000
BATCH = orjson.dumps(
    [
        {
            "email": "ana@example.org",
            "timestamp": NOW,
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 ana@example.org does not exist",
            "sg_event_id": "ev-1",
            "sg_message_id": "Abc123xyz.filterdrecv-1-2-0.0",
            "smtp-id": "<x@y>",
            "category": ["dunning"],
            "step_id": "step-1",
            "account_id": "acct-9",
        },
        {
            "email": "ana@example.org",
            "timestamp": NOW,
            "event": "group_unsubscribe",
            "asm_group_id": 42,
            "sg_event_id": "ev-2",
            "sg_message_id": "Abc123xyz.filterdrecv-1-2-0.0",
        },
    ]
)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _public(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _sign(key: ec.EllipticCurvePrivateKey, timestamp: str, payload: bytes) -> str:
    signature = key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def _verifier(key: ec.EllipticCurvePrivateKey) -> SendGridSignatureVerifier:
    return SendGridSignatureVerifier(_public(key), clock=lambda: NOW + 5)


def test_signed_batch_verifies(key: ec.EllipticCurvePrivateKey) -> None:
    assert _verifier(key).verify(BATCH, _sign(key, str(NOW), BATCH), str(NOW))


def test_tampered_batches_fail(key: ec.EllipticCurvePrivateKey) -> None:
    verifier = _verifier(key)
    signature = _sign(key, str(NOW), BATCH)
    assert not verifier.verify(BATCH.replace(b"bounce", b"delivr"), signature, str(NOW))
    assert not verifier.verify(BATCH, signature, str(NOW + 1))
    assert not verifier.verify(BATCH, "bm90IGEgc2lnbmF0dXJl", str(NOW))
    assert not verifier.verify(BATCH, "%%% not base64", str(NOW))
    assert not verifier.verify(BATCH, signature, "yesterday")
    other = ec.generate_private_key(ec.SECP256R1())
    assert not verifier.verify(BATCH, _sign(other, str(NOW), BATCH), str(NOW))


def test_stale_timestamp_is_refused_as_a_replay(key: ec.EllipticCurvePrivateKey) -> None:
    old = str(NOW - 3600)
    signature = _sign(key, old, BATCH)
    assert not _verifier(key).verify(BATCH, signature, old)
    unbounded = SendGridSignatureVerifier(_public(key), max_age_s=None)
    assert unbounded.verify(BATCH, signature, old)


@pytest.mark.parametrize("public_key", ["", "   ", "bm90IGEga2V5"])
def test_missing_or_broken_public_key_fails_fast(public_key: str) -> None:
    with pytest.raises(ValueError, match="public key"):
        SendGridSignatureVerifier(public_key)


def test_batch_is_parsed_with_custom_args_and_no_pii_in_repr() -> None:
    bounce, unsubscribe = parse_event_batch(BATCH)
    assert (bounce.event, bounce.status, bounce.bounce_type) == ("bounce", "5.1.1", "bounce")
    assert bounce.custom_args == {"step_id": "step-1", "account_id": "acct-9"}
    assert bounce.provider_message_id == "Abc123xyz"
    assert bounce.email == "ana@example.org"
    assert "ana@" not in repr(bounce)
    assert unsubscribe.event == "group_unsubscribe"
    assert unsubscribe.custom_args == {}


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b"not json", "not JSON"),
        (b'{"event": "delivered"}', "not a JSON array"),
        (b"[1]", "event [0]"),
        (b'[{"event": "delivered"}, "x"]', "event [1]"),
    ],
)
def test_malformed_batches_are_refused(payload: bytes, detail: str) -> None:
    with pytest.raises(WebhookPayloadError, match=re.escape(detail)):
        parse_event_batch(payload)


def test_an_event_lacking_fields_reads_as_empty_not_as_a_refused_batch() -> None:
    """SendGrid retries a refused batch whole: one odd event must not hold back the rest."""
    (event,) = parse_event_batch(b'[{"event": "delivered", "email": null, "status": null}]')
    assert (event.event, event.email, event.status, event.sg_message_id) == (
        "delivered", "", None, "",
    )  # fmt: skip
    (nameless,) = parse_event_batch(b'[{"type": "compliance_suspend"}]')
    assert (nameless.event, nameless.bounce_type) == ("", "compliance_suspend")


@pytest.fixture(scope="module")
def sandbox(receiver: WebhookRecorder) -> Iterator[str]:
    with sandbox_server(
        sendgrid_event_webhook_url=f"{receiver.base_url}/webhooks/sendgrid/events",
    ) as url:
        yield url


def test_sandbox_spam_report_verifies_and_parses(sandbox: str, receiver: WebhookRecorder) -> None:
    mail = build_mail(
        to="ben@example.org",
        from_email="collections@example.com",
        from_name=None,
        subject="S",
        text="T",
        html=None,
        unsubscribe_url="https://email.example.com/u/t",
        unsubscribe_mailto=None,
        custom_args={"step_id": "step-spam"},
    )
    sent = httpx.post(
        f"{sandbox}/v3/mail/send", json=mail, headers={"Authorization": "Bearer SG.sandbox-key"}
    )
    assert sent.status_code == 202
    answer = httpx.post(
        f"{sandbox}/_sandbox/sendgrid/events",
        json={"email": "ben@example.org", "event": "spamreport"},
    )
    assert answer.status_code == 202
    request = receiver.wait_for(
        lambda rs: any(b"spamreport" in r.body for r in rs), "/webhooks/sendgrid/events"
    )[-1]
    public_key = httpx.get(f"{sandbox}/_sandbox/sendgrid/public-key").json()["public_key"]
    headers = {k.lower(): v for k, v in request.headers.items()}
    signature, timestamp = headers[SIGNATURE_HEADER.lower()], headers[TIMESTAMP_HEADER.lower()]
    verifier = SendGridSignatureVerifier(public_key)
    assert verifier.verify(request.body, signature, timestamp)
    assert not verifier.verify(request.body + b" ", signature, timestamp)
    (event,) = [e for e in parse_event_batch(request.body) if e.event == "spamreport"]
    assert event.custom_args == {"step_id": "step-spam"}
    assert event.provider_message_id == sent.headers["X-Message-Id"]
