"""The sandbox signs webhooks exactly as the official SDKs verify them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dunning_sandbox.config import SandboxSettings
from dunning_sandbox.signing import EventWebhookSigner, twilio_signature
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator


def test_twilio_signature_matches_the_sdk_validator() -> None:
    url = "http://127.0.0.1:8004/webhooks/twilio/status?x=1"
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": "+14155550100"}
    signature = twilio_signature("token-123", url, params)
    validator = RequestValidator("token-123")
    assert validator.compute_signature(url, params) == signature
    assert validator.validate(url, params, signature)
    assert not validator.validate(url, {**params, "MessageStatus": "failed"}, signature)
    assert not RequestValidator("other-token").validate(url, params, signature)


def test_event_webhook_signature_verifies_with_the_sdk() -> None:
    signer = EventWebhookSigner.generate()
    payload = b'[{"email":"a@b.co","event":"delivered"}]'
    signature = signer.sign("1700000000", payload)
    verifier = EventWebhook(signer.public_key_base64)
    assert verifier.verify_signature(payload.decode(), signature, "1700000000")
    assert not verifier.verify_signature(payload.decode(), signature, "1700000001")
    assert not verifier.verify_signature(
        payload.decode().replace("delivered", "bounce"), signature, "1700000000"
    )


def test_signing_key_file_is_created_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "sendgrid.pem"
    first = EventWebhookSigner.from_pem_file(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert list(path.parent.iterdir()) == [path]
    second = EventWebhookSigner.from_pem_file(path)
    assert first.public_key_base64 == second.public_key_base64


def test_empty_key_path_means_a_fresh_key_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH", "")
    assert SandboxSettings().sendgrid_signing_key_path is None
    monkeypatch.delenv("DUNNING_SANDBOX_SENDGRID_SIGNING_KEY_PATH")
    monkeypatch.setenv("DUNNING_STATE_DIR", "/srv/state")
    assert SandboxSettings().sendgrid_signing_key_path == Path(
        "/srv/state/sandbox/sendgrid-event-webhook.pem"
    )
