"""Test support for the ledger against the real stack: import rows and files, settings,
reading topics and the database; and one step's life as the ledger records it (for the
step record and ``dunning gate explain``).

A ledger built with ``quiet_settings`` neither relays its outbox nor consumes Kafka: a
test feeds events to its ``LedgerEventHandler`` itself, as the consumer loop would. The
in-memory fakes of the ledger's ports are in ``dunning_testkit.ledger_memory``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from dunning_core.contracts import Envelope, account_import, decode
from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.events import (
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    Itemization,
    RuleFinding,
    StepDecided,
)
from dunning_core.contracts.ids import step_id
from dunning_core.runtime.clock import Clock
from dunning_core.runtime.kafka import EventProducer
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.handlers import LedgerEventHandler
from dunning_testkit.ledger_memory import MemoryLedger
from dunning_testkit.paths import auth_headers
from dunning_testkit.stack import KAFKA
from fastapi import FastAPI

T0 = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 18:30 in New York: too late to text
RETRY_AT = T0 + timedelta(hours=13, minutes=30)  # 08:00 the next morning
QUIET_HOURS = RuleFinding(
    rule_id="time.inconvenient_hours",
    action="defer",
    explanation="18:30 in America/New_York is outside 08:00-21:00",
    not_before=RETRY_AT,
    inputs={"local_time": "18:30", "zone": "America/New_York"},
)


def quiet_settings(database_url: str, topic_prefix: str) -> LedgerSettings:
    return LedgerSettings(
        database_url=database_url,
        topic_prefix=topic_prefix,
        group_id=f"{topic_prefix}ledger",
        relay=False,
        consume=False,
    )


@asynccontextmanager
async def started_ledger(
    settings: LedgerSettings, clock: Clock | None = None
) -> AsyncIterator[Ledger]:
    """``build_ledger(settings, clock)`` with its runtime started, and stopped on leaving."""
    built = build_ledger(settings, clock)
    await built.runtime.start()
    try:
        yield built
    finally:
        await built.runtime.stop()


@asynccontextmanager
async def quiet_ledger(database_url: str, topic_prefix: str) -> AsyncIterator[Ledger]:
    """A ledger with neither relay nor consumers, started: events reach it through
    ``consume``."""
    async with started_ledger(quiet_settings(database_url, topic_prefix)) as built:
        yield built


async def consume(ledger: Ledger, *envelopes: Envelope) -> int:
    """One consumer batch: each event handled, then the batch flushed in one transaction."""
    handler = LedgerEventHandler(ledger.use_cases.communications, ledger.settings.group_id)
    for envelope in envelopes:
        await handler.handle(envelope)
    await handler.flush()
    return handler.recorded


@dataclass(frozen=True)
class StepStory:
    """A New York consumer's friendly-reminder SMS: its account, decisions and deliveries."""

    account_id: str
    debt_id: str
    phone: str
    full_name: str

    @property
    def step_id(self) -> str:
        return step_id(self.account_id, self.debt_id, "friendly_reminder", "sms", 1)

    def account_row(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "full_name": self.full_name,
            "state": "NY",
            "zip": "10001",
            "phone": self.phone,
            "phone_kind": "mobile",
            "phone_consent": "creditor_provided",
            "creditor": "Acme Bank",
            "debt_id": self.debt_id,
            "balance": "120.50",
            "currency": "USD",
            "due_date": "2026-01-15",
        }

    def decided(self, decision: Decision, at: datetime, *findings: RuleFinding) -> StepDecided:
        return StepDecided(
            account_id=self.account_id,
            step_id=self.step_id,
            planned_event_id=f"plan-{at.isoformat()}",
            debt_id=self.debt_id,
            stage=Stage.FRIENDLY_REMINDER,
            channel=Channel.SMS,
            attempt=1,
            destination=self.phone,
            decision=decision,
            not_before=max((f.not_before for f in findings if f.not_before), default=None),
            findings=findings,
            inputs={"local_times": {"America/New_York": at.isoformat()}, "contacts_7d": 0},
            policy_version="test-2026.03",
            content_hash="sha256:abc",
            decided_at=at,
        )

    def delivered(self, status: DeliveryStatus, at: datetime) -> DeliveryUpdated:
        return DeliveryUpdated(
            account_id=self.account_id,
            step_id=self.step_id,
            channel=Channel.SMS,
            provider="twilio",
            provider_message_id="SM-0001",
            status=status,
            occurred_at=at,
        )


# The creditor's figures of a charged-off debt (Regulation F's itemization) as import
# columns, and as the itemization they make: 1,234.50 owed by these figures.
ITEMIZED = {
    "balance": "1234.50",
    "itemization_date": "2025-10-31",
    "itemization_basis": "Charge_Off",
    "itemization_amount": "1100.00",
    "itemization_interest": "120.25",
    "itemization_fees": "35.00",
    "itemization_payments": "20.75",
    "itemization_credits": "0",
}
ITEMIZATION = Itemization(
    itemization_date=date(2025, 10, 31),
    basis="charge_off",
    amount_minor=110_000,
    interest_minor=12_025,
    fees_minor=3_500,
    payments_minor=2_075,
    credits_minor=0,
)


def required_row(n: int, balance: str = "100.00", **overrides: str) -> dict[str, str]:
    """Account ``n`` as an import row with the required columns only (a Texas consumer)."""
    return {
        "account_id": f"A{n}",
        "full_name": "Ben Smith",
        "state": "TX",
        "creditor": "Acme",
        "debt_id": f"D{n}",
        "balance": balance,
        "due_date": "2026-01-01",
        **overrides,
    }


# --- the ledger against the real stack ------------------------------------------------


def import_row(n: int, **overrides: str) -> dict[str, str]:
    """Account ``n`` as an import row with every column filled (a New York consumer)."""
    values = {
        "account_id": f"ACC-{n:06d}",
        "full_name": f"Consumer {n}",
        "state": "NY",
        "zip": "10001",
        "phone": f"+1212555{n % 10000:04d}",
        "phone_kind": "mobile",
        "phone_consent": "creditor_provided",
        "email": f"consumer.{n}@example.com",
        "email_basis": "consumer_used",
        "email_workplace": "false",
        "locale": "en_US",
        "creditor": "Acme Bank",
        "debt_id": f"DEBT-{n:06d}",
        "balance": f"{100 + n % 900}.25",
        "currency": "USD",
        "due_date": "2026-01-15",
        "delinquent_since": "2026-02-14",
        "medical": "false",
        "legal_action_authorized": "false",
        "limitation_date": "2029-01-15",
        "validation_notice_sent_at": "",
        "ca_license_number": "",
    }
    values.update(overrides)
    return values


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """The rows as an import file's bytes, as a request body carries them."""
    return account_import.to_csv(rows).encode()


def settings_for(topics: str, database: str, **overrides: Any) -> LedgerSettings:
    values: dict[str, Any] = {"outbox_poll_ms": 50, **overrides}
    return LedgerSettings(
        database_url=database, topic_prefix=topics, group_id=f"{topics}ledger", **values
    )


async def read_topic(
    topic: str, *, at_least: int = 0, idle_s: float = 1.0, limit_s: float = 30.0
) -> list[Envelope]:
    """Every event on a topic: waits for ``at_least``, then until ``idle_s`` brings nothing."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        deadline = time.monotonic() + limit_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            records = [r for rs in batches.values() for r in rs]
            found += [decode(r.key, r.value, r.headers) for r in records]
            if records:
                quiet_since = time.monotonic()
            elif len(found) >= at_least and time.monotonic() - quiet_since >= idle_s:
                break
    finally:
        await consumer.stop()
    return found


async def publish(envelopes: list[Envelope], topics: str) -> None:
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    try:
        await producer.publish(envelopes)
    finally:
        await producer.stop()


async def scalar(database: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


# A PostgreSQL URL that leads nowhere: a ledger built with it serves its routes from the
# in-memory tables it is given, and fails loudly if anything reaches for the database.
UNREACHABLE = "postgresql+asyncpg://dunning:dunning@127.0.0.1:9/nowhere"


def memory_ledger_app(memory: MemoryLedger | None = None, clock: Clock | None = None) -> FastAPI:
    """The ledger's real routes over in-memory tables (a fresh ``MemoryLedger`` by default),
    at ``clock``'s time if given."""
    settings = LedgerSettings(database_url=UNREACHABLE)
    return build_ledger(settings, clock, transactions=memory or MemoryLedger()).app


@asynccontextmanager
async def ledger_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client over ASGI to ``app``, with the local admin key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ledger", headers=auth_headers()
    ) as client:
        yield client


@asynccontextmanager
async def importing_client(
    app: FastAPI, rows: list[dict[str, str]]
) -> AsyncIterator[httpx.AsyncClient]:
    """A ``ledger_client`` of ``app``, the accounts ``rows`` imported first."""
    async with ledger_client(app) as client:
        response = await client.post("/v1/accounts/import", json={"accounts": rows})
        assert response.status_code == 200, response.text
        yield client


@asynccontextmanager
async def memory_ledger_client(
    memory: MemoryLedger, clock: Clock, accounts: int = 2
) -> AsyncIterator[httpx.AsyncClient]:
    """A ``ledger_client`` of the routes over ``memory`` at ``clock``'s time, the accounts
    ``required_row(1)`` to ``required_row(accounts)`` imported first."""
    rows = [required_row(n) for n in range(1, accounts + 1)]
    async with importing_client(memory_ledger_app(memory, clock), rows) as client:
        yield client
