"""Builds the sms worker: settings in, a FastAPI app with its consumer loop out."""

from __future__ import annotations

from dunning_core.contracts.common import Channel
from dunning_core.contracts.topics import APPROVED_SMS
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.dedupe import RedisDedupe
from dunning_core.runtime.delivery import ChannelWorker, RedisSendRecords, SendRecords
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from fastapi import FastAPI
from redis.asyncio import Redis

from dunning_sms.adapters.twilio_sender import TwilioSmsSender
from dunning_sms.adapters.twilio_webhooks import TwilioSignatureVerifier
from dunning_sms.config import SmsSettings
from dunning_sms.sender import TwilioStepSender
from dunning_sms.webhooks import TwilioWebhooks, router


def build(settings: SmsSettings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    redis: Redis = Redis.from_url(settings.redis_url)
    producer = EventProducer(settings.kafka_bootstrap, "sms", topic_prefix=settings.topic_prefix)
    records: SendRecords = RedisSendRecords(redis, Channel.SMS, prefix=settings.topic_prefix)
    twilio = TwilioSmsSender(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        base_url=settings.twilio_base_url,
    )
    sender = TwilioStepSender(
        twilio,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        public_base_url=settings.public_base_url,
    )
    worker = ChannelWorker(
        service="sms",
        channel=Channel.SMS,
        sender=sender,
        records=records,
        producer=producer,
        clock=clock,
        concurrency=settings.send_concurrency,
    )
    loop = ConsumerLoop(
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
        topics=[APPROVED_SMS],
        handler=worker,
        producer=producer,
        dedupe=RedisDedupe(redis, f"{settings.topic_prefix}{settings.group_id}"),
        topic_prefix=settings.topic_prefix,
    )
    hooks = TwilioWebhooks(
        verifier=TwilioSignatureVerifier(settings.twilio_auth_token.get_secret_value()),
        producer=producer,
        records=records,
        clock=clock,
        public_base_url=settings.public_base_url,
    )
    runtime = ServiceRuntime("sms")

    async def close_clients() -> None:
        await twilio.aclose()
        await redis.aclose()

    async def nothing() -> None:
        return None

    runtime.add(Component("clients", nothing, close_clients))
    runtime.add(Component("producer", producer.start, producer.stop))
    runtime.add_loop("approved-sms", loop)

    async def delivery_stats() -> dict[str, object]:
        return {
            "ok": True,
            "sent": worker.sent,
            "refused": worker.refused,
            "skipped": worker.skipped,
            "webhooks_rejected": hooks.rejected,
        }

    runtime.checks["delivery"] = delivery_stats
    app = FastAPI(title="Dunning sms worker", lifespan=lifespan_for(runtime))
    app.include_router(health_router(runtime))
    app.include_router(router(hooks))
    app.state.runtime = runtime
    app.state.worker = worker
    return app
