"""Builds the ledger: engine and migrations, use cases, outbox relay, consumers, HTTP app.

Start-up order (the runtime stops in reverse): migrate the database, start the Kafka
producer, then the outbox relay and the consumer loop. Tests pass their own settings
(topic prefix, database), clock and, for use cases without PostgreSQL, transactions;
they may turn the relay or the consumers off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dunning_core.contracts.topics import SIGNALS
from dunning_core.runtime.api_docs import DOCS_OFF, serve_api_docs
from dunning_core.runtime.auth import Verifier, install_auth
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.kafka import ConsumerLoop, EventProducer
from dunning_core.runtime.metrics import OUTBOX_BACKLOG
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dunning_ledger.accounts.api import router as accounts_router
from dunning_ledger.accounts.changes import ChangeService
from dunning_ledger.accounts.pauses import PauseService
from dunning_ledger.accounts.repository import SqlAccountRepository
from dunning_ledger.accounts.service import AccountService
from dunning_ledger.accounts.timeline import TimelineService
from dunning_ledger.adapters.channels_applied import KafkaChannelsApplied
from dunning_ledger.adapters.database import (
    SqlTransactions,
    make_engine,
    make_sessions,
    migrate,
)
from dunning_ledger.adapters.outbox import SqlOutbox
from dunning_ledger.adapters.outbox_relay import OutboxRelay
from dunning_ledger.adapters.row_checks import ProcessRowChecks
from dunning_ledger.api import IMPORT_PATH, BodyLimit, UseCases, install_error_handlers, router
from dunning_ledger.communications.repository import SqlCommunicationRepository
from dunning_ledger.communications.service import CommunicationService
from dunning_ledger.config import SERVICE, LedgerSettings
from dunning_ledger.domain.terms import PaymentTerms
from dunning_ledger.handlers import CONSUMED_TOPICS, LedgerEventHandler, ProcessedEventsDedupe
from dunning_ledger.imports.repository import SqlImportRepository
from dunning_ledger.imports.service import ImportService
from dunning_ledger.keys.api import router as keys_router
from dunning_ledger.keys.repository import SqlKeyRepository
from dunning_ledger.keys.service import KeyService
from dunning_ledger.money.api import router as money_router
from dunning_ledger.money.overdue import DueDatePass
from dunning_ledger.money.service import MoneyService
from dunning_ledger.payments.repository import SqlPaymentRepository
from dunning_ledger.payments.service import PaymentService
from dunning_ledger.plans.service import PlanService
from dunning_ledger.portfolio.api import router as portfolio_router
from dunning_ledger.portfolio.repository import SqlPortfolioRepository
from dunning_ledger.portfolio.service import PortfolioService
from dunning_ledger.ports import ChannelsApplied, Published, RowChecks, Transactions
from dunning_ledger.promises.service import PromiseService
from dunning_ledger.tasks.api import router as tasks_router
from dunning_ledger.tasks.repository import SqlTaskRepository
from dunning_ledger.tasks.service import TaskService
from dunning_ledger.terms import load_terms


class SqlTransaction:
    """The repositories of one PostgreSQL transaction (one session); the caller commits."""

    def __init__(self, session: AsyncSession, topic_prefix: str) -> None:
        self.session = session
        self.accounts = SqlAccountRepository(session)
        self.payments = SqlPaymentRepository(session)
        self.imports = SqlImportRepository(session, topic_prefix)
        self.keys = SqlKeyRepository(session)
        self.communications = SqlCommunicationRepository(session)
        self.portfolio = SqlPortfolioRepository(session)
        self.tasks = SqlTaskRepository(session)
        self.outbox = SqlOutbox(session, topic_prefix)

    async def commit(self) -> None:
        await self.session.commit()


def use_cases(
    settings: LedgerSettings,
    transactions: Transactions,
    clock: Clock,
    terms: PaymentTerms,
    published: Published,
    applied: ChannelsApplied,
    row_checks: RowChecks | None,
) -> UseCases:
    signals = CommunicationService(
        transactions, clock, group_id=settings.group_id, published=published, applied=applied
    )
    return UseCases(
        accounts=AccountService(transactions, clock),
        payments=PaymentService(transactions, clock),
        communications=signals,
        imports=ImportService(transactions, clock, row_checks),
        keys=KeyService(transactions, clock, settings.auth_pepper),
        timelines=TimelineService(transactions),
        changes=ChangeService(transactions, clock),
        portfolio=PortfolioService(transactions, clock),
        plans=PlanService(transactions, clock, terms),
        promises=PromiseService(transactions, clock, terms),
        money=MoneyService(transactions, clock, terms),
        tasks=TaskService(transactions, clock, timedelta(seconds=settings.task_lease_s)),
        pauses=PauseService(transactions, clock, signals),
    )


@dataclass
class Ledger:
    """Everything the bootstrap built, for the entry point and for tests."""

    settings: LedgerSettings
    engine: AsyncEngine
    use_cases: UseCases
    producer: EventProducer
    relay: OutboxRelay
    loop: ConsumerLoop | None
    runtime: ServiceRuntime
    app: FastAPI
    due_dates: DueDatePass | None = None


def build_ledger(
    settings: LedgerSettings,
    clock: Clock | None = None,
    transactions: Transactions | None = None,
) -> Ledger:
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    engine = make_engine(settings.database_url, settings.db_pool_size)
    sessions = make_sessions(engine)
    if transactions is None:
        prefix = settings.topic_prefix
        transactions = SqlTransactions(sessions, lambda s: SqlTransaction(s, prefix))
    terms = load_terms(settings.terms_file or None)
    row_checks = ProcessRowChecks(settings.import_workers) if settings.import_workers else None
    producer = EventProducer(settings.kafka_bootstrap, SERVICE, topic_prefix=settings.topic_prefix)
    relay = OutboxRelay(
        sessions,
        producer,
        clock,
        listen_dsn=settings.asyncpg_dsn,
        batch_size=settings.outbox_batch,
        poll_interval=settings.outbox_poll_ms / 1000,
        retention=timedelta(hours=settings.outbox_retention_hours),
        publish_wait_s=settings.signal_publish_wait_s,
    )
    # An operator's signal answered once the channel workers applied it (``ChannelsApplied``).
    groups = [g.strip() for g in settings.signal_applied_groups.split(",") if g.strip()]
    applied = KafkaChannelsApplied(
        settings.kafka_bootstrap, settings.topic_prefix + SIGNALS, groups,
        bound_s=settings.signal_applied_wait_s,
    )  # fmt: skip
    cases = use_cases(settings, transactions, clock, terms, relay, applied, row_checks)
    runtime = ServiceRuntime(SERVICE)

    async def start_database() -> None:
        if settings.migrate_on_start:
            await migrate(engine)

    async def database_health() -> dict[str, Any]:
        return await cases.accounts.health()

    runtime.add(Component("database", start_database, engine.dispose))
    runtime.checks["database"] = database_health
    runtime.add(Component("producer", producer.start, producer.stop))
    runtime.add(Component("channels-applied", _nothing, applied.stop))
    if row_checks is not None:
        runtime.add(Component("import-workers", row_checks.start, row_checks.stop))
    if settings.relay:
        runtime.add(Component("outbox-relay", relay.start, relay.stop, relay.run))
        runtime.checks["outbox-relay"] = relay.health
    due_dates = DueDatePass(
        transactions, clock, terms, interval=settings.due_pass_interval_s,
        pauses=cases.pauses,
    )  # fmt: skip
    if settings.due_pass:
        runtime.add(Component("due-dates", due_dates.start, due_dates.stop, due_dates.run))
        runtime.checks["due-dates"] = due_dates.health
    loop = None
    if settings.consume:
        loop = ConsumerLoop(
            bootstrap=settings.kafka_bootstrap,
            group_id=settings.group_id,
            topics=CONSUMED_TOPICS,
            handler=LedgerEventHandler(cases.communications, settings.group_id),
            producer=producer,
            dedupe=ProcessedEventsDedupe(cases.communications, settings.group_id),
            topic_prefix=settings.topic_prefix,
            max_records=settings.max_records,
        )
        runtime.add_loop("consumer", loop)

    app = FastAPI(
        title="Dunning ledger",
        description="The system of record: accounts, payments, plans, disputes, and the "
        "communication log of every step, decision and delivery.",
        version="1",
        lifespan=lifespan_for(runtime),
        **DOCS_OFF,
    )
    serve_api_docs(app)
    app.include_router(health_router(runtime))

    async def outbox_backlog() -> None:
        async with sessions.begin() as session:
            pending, _ = await SqlOutbox(session).backlog()
        OUTBOX_BACKLOG.set(pending)

    observe(app, settings, probes=[outbox_backlog])
    app.include_router(router())
    app.include_router(accounts_router())
    app.include_router(money_router())
    app.include_router(portfolio_router())
    app.include_router(keys_router())
    app.include_router(tasks_router())
    install_error_handlers(app)
    # The ledger verifies keys against its own table: a revoke holds here at once.
    install_auth(app, Verifier(cases.keys, settings.auth_pepper, settings.bootstrap_admin_key))
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        whole_bytes=settings.max_json_bytes,
        streamed=frozenset({IMPORT_PATH}),
    )
    app.state.use_cases = cases
    app.state.runtime = runtime
    ledger = Ledger(settings, engine, cases, producer, relay, loop, runtime, app, due_dates)
    app.state.ledger = ledger
    return ledger


def build(settings: LedgerSettings, clock: Clock | None = None) -> FastAPI:
    return build_ledger(settings, clock).app


async def _nothing() -> None:
    return None
