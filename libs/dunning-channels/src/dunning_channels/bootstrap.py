"""How a channel is assembled: the same parts for sms, email and any channel to come.

Each channel runs two processes. The worker (``worker_app``) consumes its
``outreach.approved.<channel>.v1`` topic with ``SendApprovals``, runs the parked
retries and the reconciliation of sends of unknown outcome, and keeps
``consumer.signals.v1`` as suppressions (``SuppressOnSignals``).
The webhook ingress (``ingress_app``) takes the provider's callbacks and the consumers'
replies apart from the sending loop, so a worker restart never costs an opt-out: it
verifies each request, publishes, and answers 2xx only once the broker has acknowledged;
when Kafka or Redis fails or is too slow it answers 503 and the provider retries. What
differs per channel is only the provider adapter (``Sender``) and the webhook router;
``plumbing`` builds the clients both processes need.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import KafkaError
from dunning_core.contracts.common import Channel
from dunning_core.contracts.topics import SIGNALS
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.dedupe import RedisDedupe
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.redis_client import redis_client
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dunning_channels.adapters.journaled_records import JournaledSendRecords
from dunning_channels.adapters.kafka_dead_letters import KafkaDeadLetters
from dunning_channels.adapters.kafka_journal import (
    JournaledRetryQueue,
    KafkaSendJournal,
)
from dunning_channels.adapters.kafka_signals_applied import KafkaSignalsApplied
from dunning_channels.adapters.redis_pacer import RedisPacer
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.adapters.redis_send_steps import RedisSendSteps
from dunning_channels.adapters.traced_sender import TracedSender
from dunning_channels.config import ChannelSettings
from dunning_channels.ports import Pacing, Sender, SendRecords
from dunning_channels.service import Fence, ProviderWebhooks, SendApprovals, SuppressOnSignals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plumbing:
    """The clients a channel worker's sender and webhooks share."""

    service: str
    channel: Channel
    clock: Clock
    redis: Redis
    producer: EventProducer
    records: SendRecords  # suppressions journalled
    fence: Fence  # an opt-out acknowledged once the calls it came too late for ended
    retries: RedisRetryQueue
    journal: KafkaSendJournal
    redis_records: RedisSendRecords


def plumbing(
    settings: ChannelSettings, service: str, channel: Channel, clock: Clock | None = None
) -> Plumbing:
    redis = redis_client(settings.redis_url)
    prefix = settings.topic_prefix
    producer = EventProducer(settings.kafka_bootstrap, service, topic_prefix=prefix)
    journal = KafkaSendJournal(
        settings.kafka_bootstrap,
        producer,
        f"{prefix}{channel.value}.journal",
        settings.journal_replication,
    )
    redis_records = RedisSendRecords(redis, channel, prefix=prefix)
    return Plumbing(
        service=service,
        channel=channel,
        clock=clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch),
        redis=redis,
        producer=producer,
        records=JournaledSendRecords(redis_records, journal),
        # Below the ingress's acknowledgement bound: a call never ended costs no 503.
        fence=Fence(
            redis_records, bound_s=min(settings.call_bound_s, settings.ingress_ack_timeout_s / 2)
        ),
        retries=RedisRetryQueue(redis, channel, prefix=prefix),
        journal=journal,
        redis_records=redis_records,
    )


def worker_app(
    settings: ChannelSettings,
    parts: Plumbing,
    *,
    title: str,
    topic: str,
    sender: Sender,
    close_sender: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """The worker: the approved topic's consumer loop, the retries, health, clean stop."""
    channel, prefix = parts.channel.value, settings.topic_prefix
    # Parked retries are journalled on Kafka: a Redis that loses them gets them back.
    inflight = RedisRetryQueue(parts.redis, parts.channel, prefix=prefix, queue="inflight")
    retries = JournaledRetryQueue(
        parts.retries,
        parts.journal,
        parts.redis_records,
        parts.redis,
        mark_key=f"{prefix}{channel}:retry:mark",
        inflight=inflight,
    )
    provider_rate, sender_rate = settings.rates()
    pacing = None
    if provider_rate is not None or sender_rate is not None:
        pacer = RedisPacer(parts.redis, prefix=f"{settings.topic_prefix}{parts.channel.value}:")
        pacing = Pacing(pacer, provider_rate, sender_rate, settings.pace_inline_wait_s)
    # No send before the signals on the topic when it asks are suppressions (the ledger's
    # disputes and ceases come only that way).
    signals_applied = KafkaSignalsApplied(
        settings.kafka_bootstrap,
        f"{prefix}{SIGNALS}",
        f"{settings.group_id}-signals",
        bound_s=settings.signals_bound_s,
    )
    worker = SendApprovals(
        service=parts.service,
        channel=parts.channel,
        sender=TracedSender(sender, parts.channel),
        records=parts.records,
        publisher=parts.producer,
        clock=parts.clock,
        retries=retries,
        dead_letters=KafkaDeadLetters(parts.producer, settings.group_id),
        policy=settings.retry_policy(),
        breaker=settings.circuit_breaker(),
        pacing=pacing,
        journal=retries,
        guard=settings.send_guard(),
        calls=settings.call_times(),
        inflight=inflight,  # journalled with each intent
        reconcile=settings.reconcile_policy(),
        # The checks and records of a send: a script each, batched per turn of the loop.
        steps=RedisSendSteps(
            parts.redis_records,
            inflight,
            mark_key=retries.mark_key,
            restore=retries.restore_if_lost,
        ),
        signals=signals_applied,
        concurrency=settings.send_concurrency,
        call_bound_s=settings.call_bound_s,
        # Two rounds of the signals barrier at most, the journal's acknowledgement, margin.
        pre_call_s=2 * settings.signals_bound_s + settings.provider_timeout_s + 10.0,
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
    # Opt-outs, disputes and ceases however they came (another channel, the ledger's API).
    # Committed (applied, for the barrier and the ledger) once the calls already on the wire
    # to a suppressed destination or account have ended.
    fence = Fence(parts.records, bound_s=settings.call_bound_s)
    on_signals = SuppressOnSignals(parts.channel, parts.records, fence)
    signals = ConsumerLoop(
        bootstrap=settings.kafka_bootstrap,
        group_id=f"{settings.group_id}-signals",
        topics=[SIGNALS],
        handler=on_signals,
        producer=parts.producer,
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
            "paced": worker.paced,
            "retries_waiting": await parts.retries.size(),
            "in_flight_waiting": await inflight.size(),  # reserved, outcome not recorded yet
            "retries_restored": retries.restored,
            "failed": worker.failed,
            "signals_applied": on_signals.applied,
            "signals_barrier_rounds": signals_applied.rounds,
            "signals_barrier_waits": signals_applied.waits,  # rounds that found it behind
            "signals_fence_waits": fence.waited,  # a call on the wire when it was suppressed
            "signals_fence_gave_up": fence.gave_up,
            "reconciled_found": worker.found,
            "reconciled_resent": worker.resent,
            "uncertain": worker.uncertain,
        }

    async def provider_circuit() -> dict[str, Any]:
        circuit = worker.breaker.snapshot(worker.wall())
        return {"ok": circuit["state"] != "open", "provider": sender.provider, **circuit}

    async def run_retries() -> None:
        await worker.run_retries(settings.retry_poll_s)

    async def run_reconciler() -> None:
        await worker.run_reconciler(settings.reconcile_poll_s)

    runtime.add(Component("clients", nothing, close_clients))
    runtime.add(Component("producer", parts.producer.start, parts.producer.stop))
    runtime.add(Component("retry-journal", retries.start, nothing))
    runtime.add(Component("signals-applied", nothing, signals_applied.stop))
    runtime.add_loop("signals", signals)
    runtime.add_loop(f"approved-{parts.channel.value}", loop)
    # Stopped before the loop (components stop in reverse): retries in flight finish first.
    runtime.add(Component("retries", nothing, worker.stop_retries, run_retries))
    # Sends whose outcome is unknown, asked of the provider (stopped with the retries).
    runtime.add(Component("reconciler", nothing, nothing, run_reconciler))
    runtime.checks["delivery"] = delivery_stats
    runtime.checks["provider"] = provider_circuit
    app = FastAPI(title=title, lifespan=lifespan_for(runtime))
    app.include_router(health_router(runtime))
    observe(app, settings)
    app.state.runtime = runtime
    app.state.worker = worker
    return app


# What a webhook may meet on its way to durability; the provider is told to come back.
NOT_DURABLE = (KafkaError, RedisError, ConnectionError, OSError, TimeoutError)


class DurableOr503:
    """ASGI middleware: bound every request by ``ack_timeout_s`` and turn a failure to make
    its effect durable (broker, Redis) into 503, which providers retry, instead of a 2xx
    that was never earned or an answer that never comes."""

    def __init__(self, app: ASGIApp, ack_timeout_s: float) -> None:
        self.app = app
        self.ack_timeout_s = ack_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def watched(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.ack_timeout_s):
                await self.app(scope, receive, watched)
        except NOT_DURABLE as exc:
            if answered:
                raise
            log.warning(
                "webhook not made durable; answered 503",
                extra={"path": scope.get("path", ""), "error": type(exc).__name__},
            )
            response = JSONResponse({"detail": "not stored, retry later"}, status_code=503)
            await response(scope, receive, send)


def answer_503_unless_durable(app: FastAPI, ack_timeout_s: float) -> None:
    app.add_middleware(DurableOr503, ack_timeout_s=ack_timeout_s)


def ingress_app(
    settings: ChannelSettings, parts: Plumbing, hooks: ProviderWebhooks, webhooks: APIRouter
) -> FastAPI:
    """The webhook ingress: the provider's callbacks in (``webhooks``, the routes of
    ``hooks``), events out, health, clean stop.

    A process apart from the worker, so that provider callbacks and consumer replies are
    taken (and acknowledged only once on the broker) while the worker restarts.
    """
    runtime = ServiceRuntime(f"{parts.service}-ingress")

    async def nothing() -> None:
        return None

    async def close_clients() -> None:
        await parts.redis.aclose()

    async def webhook_stats() -> dict[str, Any]:
        return {"ok": True, "rejected": hooks.rejected}

    runtime.add(Component("clients", nothing, close_clients))
    runtime.add(Component("producer", parts.producer.start, parts.producer.stop))
    runtime.add(Component("journal", parts.journal.ensure_topic, nothing))
    runtime.checks["webhooks"] = webhook_stats
    title = f"Dunning {parts.service} webhook ingress"
    app = FastAPI(title=title, lifespan=lifespan_for(runtime))
    app.include_router(health_router(runtime))
    observe(app, settings)
    app.include_router(webhooks)
    answer_503_unless_durable(app, settings.ingress_ack_timeout_s)
    app.state.runtime = runtime
    return app
