"""Builds the ledger: engine and migrations, service, outbox relay, consumers, HTTP app.

Start-up order (the runtime stops in reverse): migrate the database, start the Kafka
producer, then the outbox relay and the consumer loop. Tests pass their own settings
(topic prefix, database) and clock, and may turn the relay or the consumers off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from dunning_ledger.adapters.database import make_engine, make_sessions, migrate
from dunning_ledger.adapters.outbox_relay import OutboxRelay
from dunning_ledger.api import install_error_handlers, router
from dunning_ledger.config import LedgerSettings
from dunning_ledger.handlers import CONSUMED_TOPICS, LedgerEventHandler, ProcessedEventsDedupe
from dunning_ledger.service import SERVICE, LedgerService


@dataclass
class Ledger:
    """Everything the bootstrap built, for the entry point and for tests."""

    settings: LedgerSettings
    engine: AsyncEngine
    service: LedgerService
    producer: EventProducer
    relay: OutboxRelay
    loop: ConsumerLoop | None
    runtime: ServiceRuntime
    app: FastAPI


def build_ledger(settings: LedgerSettings, clock: Clock | None = None) -> Ledger:
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    engine = make_engine(settings.database_url, settings.ledger_db_pool_size)
    service = LedgerService(
        make_sessions(engine),
        clock,
        topic_prefix=settings.topic_prefix,
        group_id=settings.ledger_group_id,
    )
    producer = EventProducer(settings.kafka_bootstrap, SERVICE, topic_prefix=settings.topic_prefix)
    relay = OutboxRelay(
        service.sessions,
        producer,
        clock,
        listen_dsn=settings.asyncpg_dsn,
        batch_size=settings.ledger_outbox_batch,
        poll_interval=settings.ledger_outbox_poll_ms / 1000,
        retention=timedelta(hours=settings.ledger_outbox_retention_hours),
    )
    runtime = ServiceRuntime(SERVICE)

    async def start_database() -> None:
        if settings.ledger_migrate_on_start:
            await migrate(engine)

    async def database_health() -> dict[str, Any]:
        return await service.health()

    runtime.add(Component("database", start_database, engine.dispose))
    runtime.checks["database"] = database_health
    runtime.add(Component("producer", producer.start, producer.stop))
    if settings.ledger_relay:
        runtime.add(Component("outbox-relay", relay.start, relay.stop, relay.run))
        runtime.checks["outbox-relay"] = relay.health
    loop = None
    if settings.ledger_consume:
        loop = ConsumerLoop(
            bootstrap=settings.kafka_bootstrap,
            group_id=settings.ledger_group_id,
            topics=CONSUMED_TOPICS,
            handler=LedgerEventHandler(service, settings.ledger_group_id),
            producer=producer,
            dedupe=ProcessedEventsDedupe(service, settings.ledger_group_id),
            topic_prefix=settings.topic_prefix,
            max_records=settings.ledger_max_records,
        )
        runtime.add_loop("consumer", loop)

    app = FastAPI(
        title="Dunning ledger",
        description="The system of record: accounts, payments, plans, disputes, and the "
        "communication log of every step, decision and delivery.",
        version="1",
        lifespan=lifespan_for(runtime),
    )
    app.include_router(health_router(runtime))
    app.include_router(router())
    install_error_handlers(app)
    app.state.service = service
    app.state.runtime = runtime
    ledger = Ledger(settings, engine, service, producer, relay, loop, runtime, app)
    app.state.ledger = ledger
    return ledger


def build(settings: LedgerSettings, clock: Clock | None = None) -> FastAPI:
    return build_ledger(settings, clock).app
