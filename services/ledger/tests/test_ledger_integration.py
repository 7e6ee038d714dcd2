"""The ledger against the real PostgreSQL and Kafka: imports, outbox, payments, the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dunning_core.contracts.events import AccountOpened, AccountUpdated
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_ledger.models import Base
from dunning_testkit.gate import eventually
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import (
    ledger_client,
    read_topic,
    scalar,
    settings_for,
    started_ledger,
    to_csv,
)
from dunning_testkit.paths import auth_headers
from sqlalchemy.engine import Connection

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


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
    assert response.json() == {
        "received": 3, "opened": 3, "updated": 0, "unchanged": 0, "recorded_by": "bootstrap-admin"
    }  # fmt: skip

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
    assert again.json() == {
        "received": 3, "opened": 0, "updated": 0, "unchanged": 3, "recorded_by": "bootstrap-admin"
    }  # fmt: skip
    await eventually(lambda: _outbox_empty(database))
    assert len(await read_topic(topics + "accounts.v1", at_least=3)) == 3

    # One changed row (as JSON): revision 2 and one AccountUpdated.
    changed = await http.post(
        "/v1/accounts/import", json={"accounts": [row(1, balance="99.00"), row(2), row(3)]}
    )
    assert changed.json() == {
        "received": 3, "opened": 0, "updated": 1, "unchanged": 2, "recorded_by": "bootstrap-admin"
    }  # fmt: skip
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


# --- the outbox with several relays ---------------------------------------------------


async def test_two_relays_publish_every_record_once_in_key_order(
    topics: str, database: str
) -> None:
    quiet = settings_for(topics, database, relay=False, consume=False)
    async with started_ledger(quiet) as writer, ledger_client(writer.app) as http:
        rows = [row(n) for n in range(1, 1501)]
        await http.post("/v1/accounts/import", json={"accounts": rows})
        changed = [row(n, balance="1.00") for n in range(1, 1501)]
        await http.post("/v1/accounts/import", json={"accounts": changed})

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
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=auth_headers()
        ) as client:

            async def healthy() -> bool:
                if process.returncode is not None:
                    raise AssertionError(f"the ledger exited with {process.returncode}")
                try:
                    return (await client.get("/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, seconds=60)
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
