"""The email webhook ingress: its own process, and 2xx only once the broker acknowledged."""

from __future__ import annotations

import httpx
from aiokafka.errors import KafkaConnectionError
from dunning_core.links import unsubscribe_token
from dunning_core.runtime.clock import FixedClock
from dunning_email.adapters.sendgrid_webhooks import SendGridSignatureVerifier
from dunning_email.api import router
from dunning_email.bootstrap import build, build_ingress
from dunning_email.config import EmailSettings
from dunning_email.handlers import SendGridWebhooks
from dunning_sandbox.signing import EventWebhookSigner
from dunning_testkit.channels import NOW, MemoryPublisher, MemorySendRecords, webhook_app
from fastapi import FastAPI

SECRET = "ingress-unsubscribe-secret"
SIGNER = EventWebhookSigner.generate()


def ingress(publisher: MemoryPublisher, records: MemorySendRecords) -> FastAPI:
    hooks = SendGridWebhooks(
        verifier=SendGridSignatureVerifier(SIGNER.public_key_base64),
        producer=publisher,
        records=records,
        clock=FixedClock(NOW),
        unsubscribe_secret=SECRET,
    )
    return webhook_app(router(hooks), ack_timeout_s=0.3)


async def unsubscribe(app: FastAPI) -> httpx.Response:
    token = unsubscribe_token(SECRET, "ACC-1", "jane@example.com")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as h:
        return await h.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})


async def test_an_unsubscribe_is_answered_once_acknowledged_and_503_otherwise() -> None:
    records = MemorySendRecords()
    assert (await unsubscribe(ingress(MemoryPublisher(), records))).status_code == 204
    assert await records.is_suppressed("jane@example.com")
    refused = MemoryPublisher(fail_with=KafkaConnectionError("broker down"))
    assert (await unsubscribe(ingress(refused, MemorySendRecords()))).status_code == 503
    held = MemoryPublisher(hold=True)
    assert (await unsubscribe(ingress(held, MemorySendRecords()))).status_code == 503


async def test_the_webhooks_live_in_the_ingress_not_in_the_worker() -> None:
    settings = EmailSettings(sendgrid_webhook_public_key=SIGNER.public_key_base64)
    worker, webhooks = build(settings), build_ingress(settings)
    assert not any(p.startswith(("/webhooks", "/unsubscribe")) for p in worker.openapi()["paths"])
    assert {"/webhooks/sendgrid/events", "/unsubscribe/{token}"} <= set(webhooks.openapi()["paths"])
    assert [c.name for c in webhooks.state.runtime.components] == ["clients", "producer", "journal"]
    assert settings.ingress_port == 8007
