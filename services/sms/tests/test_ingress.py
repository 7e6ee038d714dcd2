"""The sms webhook ingress: its own process, and 2xx only once the broker acknowledged.

A STOP that arrives while the worker restarts is not lost: the ingress takes it without
the worker, and when the event cannot be made durable it answers 503 so Twilio retries.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
from aiokafka.errors import KafkaConnectionError
from dunning_core.contracts.events import ConsumerSignaled
from dunning_sandbox.signing import twilio_signature
from dunning_sms.api import router
from dunning_sms.bootstrap import build, build_ingress
from dunning_sms.config import SmsSettings
from dunning_testkit.channels import (
    MemoryPublisher,
    MemorySendRecords,
    webhook_app,
)
from dunning_testkit.sms import twilio_webhooks
from fastapi import FastAPI
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

TOKEN = "ingress-test-token"
BASE = "http://127.0.0.1:8006"
STOP = {"MessageSid": "SM" + "c" * 32, "From": "+14155550123", "To": "+15005550006", "Body": "STOP"}


def ingress(publisher: MemoryPublisher, records: MemorySendRecords) -> FastAPI:
    hooks = twilio_webhooks(publisher, records, TOKEN, BASE)
    return webhook_app(router(hooks), ack_timeout_s=0.3)


async def post_stop(app: FastAPI) -> httpx.Response:
    path = "/webhooks/twilio/inbound"
    signature = twilio_signature(TOKEN, BASE + path, STOP)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        return await http.post(path, data=STOP, headers={"X-Twilio-Signature": signature})


async def test_a_stop_is_answered_200_once_its_signal_is_acknowledged() -> None:
    records, publisher = MemorySendRecords(), MemoryPublisher()
    await records.remember_owner(STOP["From"], "ACC-1")
    response = await post_stop(ingress(publisher, records))
    assert response.status_code == 200
    assert await records.is_suppressed(STOP["From"])
    [event] = publisher.sent
    assert isinstance(event.data, ConsumerSignaled)
    assert event.data.kind.value == "opted_out"


async def test_a_stop_from_a_number_of_no_known_account_is_kept_not_dropped() -> None:
    # As after Redis lost the owners: nobody is known for the number.
    publisher = MemoryPublisher()
    response = await post_stop(ingress(publisher, MemorySendRecords()))
    assert response.status_code == 200
    [signal] = [e.data for e in publisher.sent]
    assert publisher.topics == ["consumer.signals.v1.dlq"]
    assert (signal.account_id, signal.kind.value, signal.address) == (  # type: ignore[attr-defined]
        "unattributed",
        "opted_out",
        STOP["From"],
    )


async def test_a_stop_the_broker_refuses_is_answered_503_so_twilio_retries() -> None:
    records = MemorySendRecords()
    await records.remember_owner(STOP["From"], "ACC-1")
    publisher = MemoryPublisher(fail_with=KafkaConnectionError("broker down"))
    response = await post_stop(ingress(publisher, records))
    assert response.status_code == 503


async def test_a_stop_the_broker_never_acknowledges_is_answered_503_in_time() -> None:
    records = MemorySendRecords()
    await records.remember_owner(STOP["From"], "ACC-1")
    started = time.monotonic()
    response = await post_stop(ingress(MemoryPublisher(hold=True), records))
    assert response.status_code == 503
    assert time.monotonic() - started < 5


def paths(app: FastAPI) -> set[str]:
    return set(app.openapi()["paths"])


async def test_the_webhooks_live_in_the_ingress_not_in_the_worker() -> None:
    settings = SmsSettings(twilio_auth_token=TOKEN)
    worker, webhooks = build(settings), build_ingress(settings)
    assert not any(p.startswith("/webhooks") for p in paths(worker))
    assert {"/webhooks/twilio/status", "/webhooks/twilio/inbound", "/health"} <= paths(webhooks)
    components = [c.name for c in webhooks.state.runtime.components]
    assert components == ["clients", "producer", "journal"]  # no consumer loop, no sending
    assert settings.ingress_port == 8006
    assert settings.public_base_url == "http://127.0.0.1:8006"


async def test_a_stop_with_a_repeated_field_is_verified_over_every_value() -> None:
    """Twilio signs every value of a repeated field; the form is checked as received, not
    as one value per field (which refused such a STOP as forged: 403, and it was lost)."""
    path = "/webhooks/twilio/inbound"
    form = [*STOP.items(), ("MediaContentType", "image/jpeg"), ("MediaContentType", "text/vcard")]
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, ImmutableMultiDict(form))
    records, publisher = MemorySendRecords(), MemoryPublisher()
    await records.remember_owner(STOP["From"], "ACC-1")
    app = ingress(publisher, records)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        response = await http.post(
            path,
            content=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "content-type": "application/x-www-form-urlencoded",
            },
        )
    assert response.status_code == 200
    assert await records.is_suppressed(STOP["From"])


async def test_a_form_with_a_file_is_refused_as_not_twilios() -> None:
    path = "/webhooks/twilio/inbound"
    app = ingress(MemoryPublisher(), MemorySendRecords())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        response = await http.post(
            path,
            data=STOP,
            files={"Body": ("stop.txt", b"STOP")},
            headers={"X-Twilio-Signature": twilio_signature(TOKEN, BASE + path, STOP)},
        )
    assert response.status_code == 403
