"""How a channel worker is assembled: the same parts for sms, email and any channel to come.

A channel worker consumes its ``outreach.approved.<channel>.v1`` topic with
``SendApprovals`` and takes its provider's callbacks on webhook routes. What differs per
channel is only the provider adapter (``Sender``) and the webhook router; ``plumbing``
builds what both of those need, ``worker_app`` puts the service together around them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dunning_core.contracts.common import Channel
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.dedupe import RedisDedupe
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis

from dunning_channels.adapters.kafka_dead_letters import KafkaDeadLetters
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.config import ChannelSettings
from dunning_channels.ports import RetryQueue, Sender, SendRecords
from dunning_channels.service import SendApprovals


@dataclass(frozen=True)
class Plumbing:
    """The clients a channel worker's sender and webhooks share."""

    service: str
    channel: Channel
    clock: Clock
    redis: Redis
    producer: EventProducer
    records: SendRecords
    retries: RetryQueue


def plumbing(
    settings: ChannelSettings, service: str, channel: Channel, clock: Clock | None = None
) -> Plumbing:
    redis: Redis = Redis.from_url(settings.redis_url)
    return Plumbing(
        service=service,
        channel=channel,
        clock=clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch),
        redis=redis,
        producer=EventProducer(
            settings.kafka_bootstrap, service, topic_prefix=settings.topic_prefix
        ),
        records=RedisSendRecords(redis, channel, prefix=settings.topic_prefix),
        retries=RedisRetryQueue(redis, channel, prefix=settings.topic_prefix),
    )


def worker_app(
    settings: ChannelSettings,
    parts: Plumbing,
    *,
    title: str,
    topic: str,
    sender: Sender,
    webhooks: APIRouter,
    webhooks_rejected: Callable[[], int],
    close_sender: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """The service: the approved topic's consumer loop, the webhooks, health, clean stop."""
    worker = SendApprovals(
        service=parts.service,
        channel=parts.channel,
        sender=sender,
        records=parts.records,
        publisher=parts.producer,
        clock=parts.clock,
        retries=parts.retries,
        dead_letters=KafkaDeadLetters(parts.producer, settings.group_id),
        policy=settings.retry_policy(),
        breaker=settings.circuit_breaker(),
        concurrency=settings.send_concurrency,
    )
    loop = ConsumerLoop(
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
        topics=[topic],
        handler=worker,
        producer=parts.producer,
        dedupe=RedisDedupe(parts.redis, f"{settings.topic_prefix}{settings.group_id}"),
        topic_prefix=settings.topic_prefix,
    )
    runtime = ServiceRuntime(parts.service)

    async def nothing() -> None:
        return None

    async def close_clients() -> None:
        if close_sender is not None:
            await close_sender()
        await parts.redis.aclose()

    async def delivery_stats() -> dict[str, Any]:
        return {
            "ok": True,
            "sent": worker.sent,
            "refused": worker.refused,
            "skipped": worker.skipped,
            "expired": worker.expirations,
            "ambiguous": worker.ambiguous,
            "retries_parked": worker.parked,
            "retries_waiting": await parts.retries.size(),
            "failed": worker.failed,
            "webhooks_rejected": webhooks_rejected(),
        }

    async def provider_circuit() -> dict[str, Any]:
        # Shown, not failed: the pod still takes webhooks while its provider is down.
        return {"ok": True, "provider": sender.provider, **worker.breaker.snapshot(worker.wall())}

    async def run_retries() -> None:
        await worker.run_retries(settings.retry_poll_s)

    runtime.add(Component("clients", nothing, close_clients))
    runtime.add(Component("producer", parts.producer.start, parts.producer.stop))
    runtime.add_loop(f"approved-{parts.channel.value}", loop)
    # Stopped before the loop (components stop in reverse): retries in flight finish first.
    runtime.add(Component("retries", nothing, worker.stop_retries, run_retries))
    runtime.checks["delivery"] = delivery_stats
    runtime.checks["provider"] = provider_circuit
    app = FastAPI(title=title, lifespan=lifespan_for(runtime))
    app.include_router(health_router(runtime))
    app.include_router(webhooks)
    app.state.runtime = runtime
    app.state.worker = worker
    return app
