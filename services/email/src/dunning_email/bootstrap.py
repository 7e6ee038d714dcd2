"""Builds the email worker: settings in, a FastAPI app with its consumer loop out."""

from __future__ import annotations

from dunning_core.contracts.common import Channel
from dunning_core.contracts.topics import APPROVED_EMAIL
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.dedupe import RedisDedupe
from dunning_core.runtime.delivery import ChannelWorker, RedisSendRecords, SendRecords
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from fastapi import FastAPI
from redis.asyncio import Redis

from dunning_email.adapters.sendgrid_sender import SendGridEmailSender
from dunning_email.adapters.sendgrid_webhooks import SendGridSignatureVerifier
from dunning_email.config import EmailSettings
from dunning_email.sender import SendGridStepSender
from dunning_email.webhooks import SendGridWebhooks, router


def build(settings: EmailSettings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    redis = Redis.from_url(settings.redis_url)
    producer = EventProducer(settings.kafka_bootstrap, "email", topic_prefix=settings.topic_prefix)
    records: SendRecords = RedisSendRecords(redis, Channel.EMAIL, prefix=settings.topic_prefix)
    sendgrid = SendGridEmailSender(
        api_key=settings.sendgrid_api_key.get_secret_value(),
        host=settings.sendgrid_base_url,
        max_concurrency=settings.send_concurrency,
    )
    worker = ChannelWorker(
        service="email",
        channel=Channel.EMAIL,
        sender=SendGridStepSender(
            sendgrid, from_address=settings.from_address, from_name=settings.from_name
        ),
        records=records,
        producer=producer,
        clock=clock,
        concurrency=settings.send_concurrency,
    )
    loop = ConsumerLoop(
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
        topics=[APPROVED_EMAIL],
        handler=worker,
        producer=producer,
        dedupe=RedisDedupe(redis, f"{settings.topic_prefix}{settings.group_id}"),
        topic_prefix=settings.topic_prefix,
    )
    hooks = SendGridWebhooks(
        verifier=SendGridSignatureVerifier(settings.sendgrid_webhook_public_key),
        producer=producer,
        records=records,
        clock=clock,
        unsubscribe_secret=settings.unsubscribe_secret.get_secret_value(),
    )
    runtime = ServiceRuntime("email")

    async def nothing() -> None:
        return None

    async def close_redis() -> None:
        await redis.aclose()

    async def delivery_stats() -> dict[str, object]:
        return {
            "ok": True,
            "sent": worker.sent,
            "refused": worker.refused,
            "skipped": worker.skipped,
            "webhooks_rejected": hooks.rejected,
        }

    runtime.add(Component("redis", nothing, close_redis))
    runtime.add(Component("producer", producer.start, producer.stop))
    runtime.add_loop("approved-email", loop)
    runtime.checks["delivery"] = delivery_stats
    app = FastAPI(title="Dunning email worker", lifespan=lifespan_for(runtime))
    app.include_router(health_router(runtime))
    app.include_router(router(hooks))
    app.state.runtime = runtime
    app.state.worker = worker
    return app
