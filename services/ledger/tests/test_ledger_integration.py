"""The ledger against the real PostgreSQL and Kafka: imports, outbox, payments, the log."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dunning_core.contracts import Envelope, decode, wrap
from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.events import (
    AccountOpened,
    AccountUpdated,
    ConsumerSignaled,
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    PaymentReceived,
    RuleFinding,
    SignalKind,
    StepDecided,
)
from dunning_core.runtime.kafka import EventProducer
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.domain.import_format import COLUMNS
from dunning_ledger.models import Base
from dunning_testkit.stack import KAFKA
from sqlalchemy.engine import Connection

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def row(n: int, **overrides: str) -> dict[str, str]:
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
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.fixture
async def database(fresh_database: Callable[[str], Awaitable[str]]) -> str:
    return await fresh_database("ledger")


def settings_for(topics: str, database: str, **overrides: Any) -> LedgerSettings:
    return LedgerSettings(
        database_url=database,
        topic_prefix=topics,
        group_id=f"{topics}ledger",
        outbox_poll_ms=50,
        **overrides,
    )


@pytest.fixture
async def ledger(topics: str, database: str) -> AsyncIterator[Ledger]:
    built = build_ledger(settings_for(topics, database))
    await built.runtime.start()
    try:
        yield built
    finally:
        await built.runtime.stop()


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ledger.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
        yield client


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


async def eventually(check: Callable[[], Awaitable[bool]], limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def scalar(database: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


# --- schema ---------------------------------------------------------------------------


async def test_migrations_create_exactly_the_models(ledger: Ledger) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "compare_type": True,
                "include_name": lambda name, type_, _: type_ != "schema" or name == "ledger",
                "include_object": lambda _o, name, type_, *_: name != "alembic_version",
            },
        )
        return list(compare_metadata(context, Base.metadata))

    async with ledger.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


# --- imports --------------------------------------------------------------------------


async def test_import_announces_new_accounts_once(
    http: httpx.AsyncClient, topics: str, database: str
) -> None:
    rows = [row(n) for n in range(1, 4)]
    response = await http.post(
        "/v1/accounts/import", files={"file": ("accounts.csv", to_csv(rows), "text/csv")}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 3, "opened": 3, "updated": 0, "unchanged": 0}

    events = await read_topic(topics + "accounts.v1", at_least=3)
    assert sorted(e.data.account_id for e in events) == ["ACC-000001", "ACC-000002", "ACC-000003"]
    assert all(isinstance(e.data, AccountOpened) and e.data.revision == 1 for e in events)
    assert all(e.source == "urn:dunning:ledger" and e.traceparent for e in events)
    first = next(e.data for e in events if e.data.account_id == "ACC-000001")
    assert isinstance(first, AccountOpened)
    assert first.debt.balance.amount_minor == 10125
    assert first.consumer.phones[0].number == "+12125550001"

    # The same file again, as a text/csv body this time: nothing changes, nothing is sent.
    again = await http.post(
        "/v1/accounts/import", content=to_csv(rows), headers={"content-type": "text/csv"}
    )
    assert again.json() == {"received": 3, "opened": 0, "updated": 0, "unchanged": 3}
    await eventually(lambda: _outbox_empty(database))
    assert len(await read_topic(topics + "accounts.v1", at_least=3)) == 3

    # One changed row (as JSON): revision 2 and one AccountUpdated.
    changed = await http.post(
        "/v1/accounts/import", json={"accounts": [row(1, balance="99.00"), row(2), row(3)]}
    )
    assert changed.json() == {"received": 3, "opened": 0, "updated": 1, "unchanged": 2}
    events = await read_topic(topics + "accounts.v1", at_least=4)
    updates = [e.data for e in events if isinstance(e.data, AccountUpdated)]
    assert [(u.account_id, u.revision, u.debt.balance.amount_minor) for u in updates] == [
        ("ACC-000001", 2, 9900)
    ]
    account = (await http.get("/v1/accounts/ACC-000001")).json()
    assert (account["revision"], account["balance"]["display"]) == (2, "99.00")


async def _outbox_empty(database: str) -> bool:
    sql = "SELECT count(*) FROM ledger.outbox WHERE published_at IS NULL"
    return int(await scalar(database, sql)) == 0


async def test_a_malformed_file_is_rejected_whole(http: httpx.AsyncClient, database: str) -> None:
    rows = [row(1), row(2, phone="12"), row(3, state="XX"), row(4, balance="-1.00")]
    response = await http.post(
        "/v1/accounts/import", content=to_csv(rows), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "import_rejected"
    assert [(e["row"], e["line"], e["field"]) for e in body["errors"]] == [
        (2, 3, "phone"),
        (3, 4, "state"),
        (4, 5, "balance"),
    ]
    assert await scalar(database, "SELECT count(*) FROM ledger.accounts") == 0
    assert await scalar(database, "SELECT count(*) FROM ledger.outbox") == 0
    assert (await http.get("/v1/accounts/ACC-000001")).status_code == 404

    missing = to_csv([row(1)]).replace(b"due_date,", b"", 1)
    header = await http.post(
        "/v1/accounts/import", content=missing, headers={"content-type": "text/csv"}
    )
    assert header.status_code == 422
    assert [(e["row"], e["field"]) for e in header.json()["errors"]] == [(0, "due_date")]

    unsupported = await http.post(
        "/v1/accounts/import", content=b"<xml/>", headers={"content-type": "application/xml"}
    )
    assert unsupported.status_code == 415


async def test_ten_thousand_rows_import_in_one_request_and_each_is_published_once(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    # How long it takes is measured by bench/bench_pipeline.py (import_s), not here.
    rows = [row(n) for n in range(1, 10_001)]
    response = await http.post(
        "/v1/accounts/import", content=to_csv(rows), headers={"content-type": "text/csv"}
    )
    assert response.json()["opened"] == 10_000
    await eventually(lambda: _outbox_empty(database))
    events = await read_topic(topics + "accounts.v1", at_least=10_000, idle_s=0.5)
    assert len({e.id for e in events}) == 10_000


# --- payments, plans, signals ---------------------------------------------------------


async def test_a_payment_posted_twice_is_one_payment_and_one_event(
    http: httpx.AsyncClient, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(7, balance="300.00")]})
    body = {"payment_id": "PAY-7", "amount": "120.50", "method": "card"}
    first = await http.post("/v1/accounts/ACC-000007/payments", json=body)
    second = await http.post("/v1/accounts/ACC-000007/payments", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replayed"] is True
    assert first.json()["remaining_balance"]["display"] == "179.50"

    conflict = await http.post("/v1/accounts/ACC-000007/payments", json={**body, "amount": "1.00"})
    assert conflict.status_code == 409
    too_much = await http.post(
        "/v1/accounts/ACC-000007/payments", json={"payment_id": "PAY-8", "amount": "500"}
    )
    assert too_much.status_code == 422
    assert (await http.post("/v1/accounts/NOPE/payments", json=body)).status_code == 404

    account = (await http.get("/v1/accounts/ACC-000007")).json()
    assert [p["payment_id"] for p in account["payments"]] == ["PAY-7"]
    assert account["balance"]["amount_minor"] == 17950

    events = await read_topic(topics + "payments.v1", at_least=1)
    assert len(events) == 1
    payment = events[0].data
    assert isinstance(payment, PaymentReceived)
    assert (payment.amount.amount_minor, payment.remaining_balance.amount_minor) == (12050, 17950)

    # Paying the rest marks the account paid; a re-import of the same file keeps the payments.
    await http.post(
        "/v1/accounts/ACC-000007/payments", json={"payment_id": "PAY-9", "amount": "179.50"}
    )
    reimport = await http.post("/v1/accounts/import", json={"accounts": [row(7, balance="300.00")]})
    assert reimport.json()["unchanged"] == 1
    account = (await http.get("/v1/accounts/ACC-000007")).json()
    assert (account["status"], account["balance"]["amount_minor"]) == ("paid", 0)


async def test_plans_are_idempotent(http: httpx.AsyncClient, topics: str) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(8)]})
    first_due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()  # wall clock
    body = {"plan_id": "PLAN-8", "instalment": "25", "instalments": 4, "first_due": first_due}
    assert (await http.post("/v1/accounts/ACC-000008/plans", json=body)).status_code == 201
    assert (await http.post("/v1/accounts/ACC-000008/plans", json=body)).status_code == 200
    events = await read_topic(topics + "payments.v1", at_least=1)
    assert [e.type for e in events] == ["plan.agreed.v1"]


async def test_operator_signals_are_recorded_announced_and_not_echoed(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(9)]})
    body = {"signal_id": "letter-9", "kind": "disputed", "text": "not my debt"}
    first = await http.post("/v1/accounts/ACC-000009/signals", json=body)
    again = await http.post("/v1/accounts/ACC-000009/signals", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["ce_id"] == again.json()["ce_id"]
    refused = await http.post(
        "/v1/accounts/ACC-000009/signals", json={"signal_id": "x", "kind": "replied"}
    )
    assert refused.status_code == 422

    events = await read_topic(topics + "consumer.signals.v1", at_least=1)
    assert len(events) == 1
    signal = events[0].data
    assert isinstance(signal, ConsumerSignaled)
    assert (signal.source, signal.kind, signal.debt_id) == (
        "operator",
        SignalKind.DISPUTED,
        "DEBT-000009",
    )
    account = (await http.get("/v1/accounts/ACC-000009")).json()
    assert [(f["flag"], f["active"]) for f in account["flags"]] == [("disputed", True)]
    assert account["disputes"][0]["verified_at"] is None

    # The ledger consumes its own announcement back: already processed, so nothing doubles.
    loop = ledger.loop
    assert loop is not None
    await eventually(lambda: _consumed(ledger, duplicates=1))
    assert await scalar(database, "SELECT count(*) FROM ledger.communication_events") == 1

    verified = await http.post(
        "/v1/accounts/ACC-000009/signals", json={"signal_id": "ver-9", "kind": "dispute_verified"}
    )
    assert verified.status_code == 201
    account = (await http.get("/v1/accounts/ACC-000009")).json()
    assert [(f["flag"], f["active"]) for f in account["flags"]] == [("disputed", False)]
    assert account["disputes"][0]["verified_at"] is not None


async def _consumed(ledger: Ledger, *, handled: int = 0, duplicates: int = 0) -> bool:
    assert ledger.loop is not None
    stats = ledger.loop.stats
    return stats.handled >= handled and stats.duplicates >= duplicates


# --- the communication log ------------------------------------------------------------


def decided(step: str, decision: Decision, at: datetime, *rules: str) -> StepDecided:
    return StepDecided(
        account_id="ACC-000005",
        step_id=step,
        planned_event_id=f"{step}@{at.isoformat()}",
        debt_id="DEBT-000005",
        stage=Stage.FRIENDLY_REMINDER,
        channel=Channel.SMS,
        attempt=1,
        destination="+12125550005",
        decision=decision,
        not_before=at + timedelta(hours=15) if decision is Decision.DEFER else None,
        findings=tuple(
            RuleFinding(
                rule_id=r,
                action="block" if decision is Decision.BLOCK else "defer",
                explanation="test",
            )
            for r in rules
        ),
        policy_version="test-1",
        content_hash="sha256:abc",
        decided_at=at,
    )


def delivered(step: str, status: DeliveryStatus, at: datetime) -> DeliveryUpdated:
    return DeliveryUpdated(
        account_id="ACC-000005",
        step_id=step,
        channel=Channel.SMS,
        provider="twilio",
        provider_message_id=f"SM-{step}",
        status=status,
        occurred_at=at,
    )


async def test_decisions_and_deliveries_give_each_step_its_final_status(
    http: httpx.AsyncClient, ledger: Ledger, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(5)]})
    s = timedelta(seconds=1)
    await publish(
        [
            wrap(decided("stp-a", Decision.ALLOW, T0), "gate"),
            wrap(decided("stp-b", Decision.DEFER, T0 + s, "hours.fdcpa"), "gate"),
            wrap(decided("stp-c", Decision.BLOCK, T0 + 2 * s, "optout.channel"), "gate"),
            # A delivery may arrive before its decision is recorded: it creates the row.
            wrap(delivered("stp-d", DeliveryStatus.ACCEPTED, T0 + 3 * s), "sms"),
        ],
        topics,
    )
    await publish(
        [
            wrap(delivered("stp-a", DeliveryStatus.ACCEPTED, T0 + 10 * s), "sms"),
            wrap(delivered("stp-a", DeliveryStatus.DELIVERED, T0 + 30 * s), "sms"),
            wrap(delivered("stp-a", DeliveryStatus.SENT, T0 + 20 * s), "sms"),  # late
            wrap(decided("stp-d", Decision.ALLOW, T0 + 2 * s), "gate"),
        ],
        topics,
    )
    await eventually(lambda: _consumed(ledger, handled=8))

    log = (await http.get("/v1/accounts/ACC-000005/communications")).json()
    steps = {s["step_id"]: s for s in log["steps"]}
    assert [s["step_id"] for s in log["steps"]] == ["stp-a", "stp-b", "stp-c", "stp-d"]
    a = steps["stp-a"]
    assert (a["decision"], a["stage"], a["rule_ids"]) == ("allow", "friendly_reminder", [])
    assert (a["delivery"]["status"], a["delivery"]["final"]) == ("delivered", True)
    assert a["delivery"]["sent_at"] == "2026-03-02T15:00:20Z"
    assert a["delivery"]["provider_message_id"] == "SM-stp-a"
    b = steps["stp-b"]
    assert (b["decision"], b["rule_ids"], b["delivery"]) == ("defer", ["hours.fdcpa"], None)
    assert b["not_before"] == "2026-03-03T06:00:01Z"
    assert (steps["stp-c"]["decision"], steps["stp-c"]["rule_ids"]) == ("block", ["optout.channel"])
    d = steps["stp-d"]
    assert (d["decision"], d["attempt"], d["delivery"]["status"]) == ("allow", 1, "accepted")
    assert log["events"] is None

    detailed = (await http.get("/v1/accounts/ACC-000005/communications?detail=events")).json()
    assert len(detailed["events"]) == 8
    assert {e["kind"] for e in detailed["events"]} == {"decision", "delivery"}
    assert detailed["events"][0]["payload"]["step_id"] == "stp-a"

    summary = (await http.get("/v1/summary")).json()
    assert summary["steps"] == {"total": 4, "allow": 2, "defer": 1, "block": 1}
    assert summary["rules"] == {"block": {"optout.channel": 1}, "defer": {"hours.fdcpa": 1}}
    assert summary["deliveries"]["sms"] == {"accepted": 1, "delivered": 1}


async def test_a_delivery_event_delivered_twice_is_recorded_once(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(5)]})
    event = wrap(delivered("stp-x", DeliveryStatus.DELIVERED, T0), "sms")
    await publish([event], topics)
    await eventually(lambda: _consumed(ledger, handled=1))
    await publish([event], topics)  # a second delivery of the same record, in a later batch
    await eventually(lambda: _consumed(ledger, handled=1, duplicates=1))
    count = "SELECT count(*) FROM ledger.communication_events WHERE ce_id = $1"
    assert await scalar(database, count, event.id) == 1

    # And below the loop's dedupe: the service itself ignores an event it already recorded.
    assert (
        await ledger.use_cases.communications.record_events(ledger.settings.group_id, [event]) == 0
    )
    assert await scalar(database, count, event.id) == 1


async def test_consumer_signals_set_flags(
    http: httpx.AsyncClient, ledger: Ledger, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(6)]})
    stop = ConsumerSignaled(
        account_id="ACC-000006",
        signal_id="SM-in-1",
        kind=SignalKind.OPTED_OUT,
        channel=Channel.SMS,
        address="+12125550006",
        text="STOP",
        source="sms",
        occurred_at=T0,
    )
    await publish([wrap(stop, "sms")], topics)
    await eventually(lambda: _consumed(ledger, handled=1))
    account = (await http.get("/v1/accounts/ACC-000006")).json()
    assert [(f["flag"], f["scope"], f["active"], f["source"]) for f in account["flags"]] == [
        ("opted_out", "+12125550006", True, "sms")
    ]
    assert (await http.get("/v1/summary")).json()["flags"] == {"opted_out": 1}


async def test_a_poison_event_is_dead_lettered_and_the_rest_recorded(
    http: httpx.AsyncClient, ledger: Ledger, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(4)]})
    poison = ConsumerSignaled(
        account_id="ACC-000004",
        signal_id="SM-in-nul",
        kind=SignalKind.REPLIED,
        text="hello\x00",
        source="sms",
        occurred_at=T0,
    )
    fine = DeliveryUpdated(
        account_id="ACC-000004",
        step_id="stp-fine",
        channel=Channel.EMAIL,
        provider="sendgrid",
        status=DeliveryStatus.DELIVERED,
        occurred_at=T0,
    )
    await publish([wrap(poison, "sms"), wrap(fine, "email")], topics)
    await eventually(lambda: _consumed(ledger, handled=1))
    dead = await read_topic(topics + "consumer.signals.v1.dlq", at_least=1)
    assert [e.data.account_id for e in dead] == ["ACC-000004"]
    log = (await http.get("/v1/accounts/ACC-000004/communications")).json()
    assert [(s["step_id"], s["delivery"]["status"]) for s in log["steps"]] == [
        ("stp-fine", "delivered")
    ]


# --- the outbox with several relays ---------------------------------------------------


async def test_two_relays_publish_every_record_once_in_key_order(
    topics: str, database: str
) -> None:
    quiet = settings_for(topics, database, relay=False, consume=False)
    writer = build_ledger(quiet)
    await writer.runtime.start()
    try:
        transport = httpx.ASGITransport(app=writer.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as http:
            rows = [row(n) for n in range(1, 1501)]
            await http.post("/v1/accounts/import", json={"accounts": rows})
            changed = [row(n, balance="1.00") for n in range(1, 1501)]
            await http.post("/v1/accounts/import", json={"accounts": changed})
    finally:
        await writer.runtime.stop()

    relays = [build_ledger(quiet.model_copy(update={"outbox_batch": 100})) for _ in "ab"]
    for replica in relays:
        await replica.producer.start()
    try:
        published = await asyncio.gather(*(r.relay.drain(within=60) for r in relays))
    finally:
        for replica in relays:
            await replica.producer.stop()
            await replica.engine.dispose()
    assert sum(published) == 3000
    events = await read_topic(topics + "accounts.v1", at_least=3000, idle_s=0.5)
    assert len(events) == len({e.id for e in events}) == 3000
    revisions: dict[str, list[int]] = {}
    for e in events:
        assert isinstance(e.data, AccountOpened | AccountUpdated)
        revisions.setdefault(e.data.account_id, []).append(e.data.revision)
    assert all(r == [1, 2] for r in revisions.values())


# --- the entry point ------------------------------------------------------------------


async def test_the_app_serves_health_on_its_port(topics: str, database: str) -> None:
    import os
    import socket
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DUNNING_DATABASE_URL": database,
        "DUNNING_TOPIC_PREFIX": topics,
        "DUNNING_LEDGER_PORT": str(port),
        "DUNNING_LEDGER_GROUP_ID": f"{topics}ledger",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dunning_ledger.app", env=env
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def healthy() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"the ledger exited with {process.returncode}")
                try:
                    return (await client.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, limit_s=60)
            report = (await client.get("/health")).json()
            assert report["database"]["ok"]
            assert report["outbox-relay"]["listening"]
            imported = await client.post("/v1/accounts/import", json={"accounts": [row(1)]})
            assert imported.json()["opened"] == 1
    finally:
        if process.returncode is None:
            process.terminate()
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught: exit by signal 15.
    assert await asyncio.wait_for(process.wait(), 30) in (0, -15)
