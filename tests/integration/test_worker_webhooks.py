"""The workers' webhook endpoints on the real broker and Redis: signed in, events out.

A callback signed as the provider signs it becomes an event; the same callback tampered
with gets 403 and publishes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_core.contracts import Channel, ConsumerSignaled, DeliveryUpdated, Event, decode
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_email.adapters.sendgrid_webhooks import SendGridSignatureVerifier
from dunning_email.api import router as email_router
from dunning_email.handlers import SendGridWebhooks
from dunning_sandbox.signing import EventWebhookSigner, twilio_signature
from dunning_sms.api import router as sms_router
from dunning_testkit.channels import webhook_app
from dunning_testkit.sms import twilio_webhooks
from dunning_testkit.stack import KAFKA, REDIS_URL
from fastapi import FastAPI
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

TOKEN = "test-auth-token"
BASE = "http://127.0.0.1:8004"
NOW = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/3")
    yield client
    await client.aclose()


async def events_on(topic: str, settle_s: float = 2.0) -> list[Event]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    found: list[Event] = []
    try:
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found.extend(decode(r.key, r.value, r.headers).data for r in records)
    finally:
        await consumer.stop()
    return found


def sms_app(producer: EventProducer, records: RedisSendRecords) -> FastAPI:
    return webhook_app(sms_router(twilio_webhooks(producer, records, TOKEN, BASE)))


async def test_signed_status_callback_becomes_a_delivery_event_and_tampered_one_is_refused(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    app = sms_app(producer, RedisSendRecords(redis, Channel.SMS, prefix=topics))
    path = "/webhooks/twilio/status?account_id=ACC-1&step_id=stp_1"
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": "+14155550123"}
    signature = twilio_signature(TOKEN, BASE + path, form)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        ok = await http.post(path, data=form, headers={"X-Twilio-Signature": signature})
        tampered = await http.post(
            path,
            data={**form, "MessageStatus": "failed"},
            headers={"X-Twilio-Signature": signature},
        )
        unsigned = await http.post(path, data=form)
    assert ok.status_code == 204
    assert tampered.status_code == 403
    assert unsigned.status_code == 403
    published = await events_on(topics + "delivery.v1")
    assert len(published) == 1
    event = published[0]
    assert isinstance(event, DeliveryUpdated)
    assert (event.step_id, event.status.value, event.provider) == ("stp_1", "delivered", "twilio")


async def test_inbound_stop_is_suppressed_and_signalled_before_the_200(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    records = RedisSendRecords(redis, Channel.SMS, prefix=topics)
    await records.remember_owner("+14155550123", "ACC-7")
    app = sms_app(producer, records)
    path = "/webhooks/twilio/inbound"
    form = {
        "MessageSid": "SM" + "b" * 32,
        "From": "+14155550123",
        "To": "+15005550006",
        "Body": "No más",
    }
    signature = twilio_signature(TOKEN, BASE + path, form)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        response = await http.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert "<Response>" in response.text
    assert await records.is_suppressed("+14155550123")
    published = await events_on(topics + "consumer.signals.v1")
    assert len(published) == 1
    signal = published[0]
    assert isinstance(signal, ConsumerSignaled)
    assert (signal.account_id, signal.kind.value, signal.channel) == (
        "ACC-7",
        "opted_out",
        Channel.SMS,
    )


async def test_signed_event_batch_becomes_events_and_tampered_batch_is_refused(
    topics: str, producer: EventProducer, redis: Redis
) -> None:
    signer = EventWebhookSigner.generate()
    hooks = SendGridWebhooks(
        verifier=SendGridSignatureVerifier(signer.public_key_base64),
        producer=producer,
        records=RedisSendRecords(redis, Channel.EMAIL, prefix=topics),
        clock=FixedClock(NOW),
        unsubscribe_secret="s3cret",
    )
    app = webhook_app(email_router(hooks))
    batch = [
        {
            "email": "jane@example.com",
            "event": "delivered",
            "sg_event_id": "e1",
            "sg_message_id": "m1.filter",
            "timestamp": int(time.time()),
            "account_id": "ACC-9",
            "step_id": "stp_9",
        },
        {
            "email": "jane@example.com",
            "event": "spamreport",
            "sg_event_id": "e2",
            "sg_message_id": "m1.filter",
            "timestamp": int(time.time()),
            "account_id": "ACC-9",
            "step_id": "stp_9",
        },
    ]
    payload = orjson.dumps(batch)
    stamp = str(int(time.time()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": signer.sign(stamp, payload),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        ok = await http.post("/webhooks/sendgrid/events", content=payload, headers=headers)
        tampered = await http.post(
            "/webhooks/sendgrid/events",
            content=payload.replace(b"delivered", b"bounce"),
            headers=headers,
        )
    assert ok.status_code == 204
    assert tampered.status_code == 403
    await asyncio.sleep(0)
    delivery = await events_on(topics + "delivery.v1")
    signals = await events_on(topics + "consumer.signals.v1", settle_s=1.0)
    assert [(e.step_id, e.status.value) for e in delivery if isinstance(e, DeliveryUpdated)] == [
        ("stp_9", "delivered")
    ]
    assert [e.kind.value for e in signals if isinstance(e, ConsumerSignaled)] == ["spam_reported"]
