"""Ledger figures on the real stack: import, outbox relay, payments, consumed events.

    uv run python services/ledger/bench/bench_ledger.py [--accounts 10000] [--events 20000]

Each run uses its own database and topic prefix (both removed afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient
from dunning_cli.portfolio import sample_rows, to_csv
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_core.runtime.kafka import EventProducer
from dunning_core.testing import KAFKA, PG_ADMIN_DSN, create_database, create_topics
from dunning_ledger.adapters.database import migrate
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.domain.import_rows import validate_csv


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(accounts: int, events: int) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    topics = await create_topics(prefix, partitions=6)
    url = await create_database(f"bench_ledger_{uuid.uuid4().hex[:8]}")
    settings = LedgerSettings(
        database_url=url, topic_prefix=prefix, ledger_group_id=f"{prefix}ledger"
    )
    try:
        await run(settings, accounts, events)
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.delete_topics(topics)
        finally:
            await admin.close()
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await conn.close()


async def run(settings: LedgerSettings, accounts: int, events: int) -> None:
    # Relay and consumers off at first: each stage is timed on its own.
    ledger = build_ledger(settings.model_copy(update={"ledger_relay": False}))
    await migrate(ledger.engine)
    await ledger.producer.start()
    rows = sample_rows(accounts)
    data = to_csv(rows).encode()

    started = time.perf_counter()
    validated = validate_csv(data)
    validate_s = time.perf_counter() - started
    transport = httpx.ASGITransport(app=ledger.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as http:
        started = time.perf_counter()
        response = await http.post(
            "/v1/accounts/import", content=data, headers={"content-type": "text/csv"}
        )
        import_s = time.perf_counter() - started
        assert response.status_code == 200, response.text
        started = time.perf_counter()
        again = await http.post(
            "/v1/accounts/import", content=data, headers={"content-type": "text/csv"}
        )
        reimport_s = time.perf_counter() - started
        assert again.json()["unchanged"] == accounts
        say(f"import of {accounts} rows (HTTP, text/csv): {import_s:.2f} s "
              f"({accounts / import_s:,.0f} rows/s); validation alone {validate_s:.2f} s; "
              f"re-import (all unchanged) {reimport_s:.2f} s")  # fmt: skip
        assert validated.ok

        started = time.perf_counter()
        published = await ledger.relay.drain(within=120)
        relay_s = time.perf_counter() - started
        say(f"outbox relay: {published} records in {relay_s:.2f} s "
              f"({published / relay_s:,.0f} records/s, batches of "
              f"{settings.ledger_outbox_batch})")  # fmt: skip

        latencies = []
        for row in rows[:500]:
            t = time.perf_counter()
            paid = await http.post(
                f"/v1/accounts/{row['account_id']}/payments",
                json={"payment_id": f"P-{row['account_id']}", "amount": "1.00"},
            )
            latencies.append(time.perf_counter() - t)
            assert paid.status_code == 201, paid.text
        latencies.sort()
        say(f"payments: 500 sequential, p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")  # fmt: skip
    await ledger.producer.stop()
    await ledger.engine.dispose()

    # Consumed events: publish deliveries first, then time the ledger's consumer on them.
    producer = EventProducer(KAFKA, "bench", topic_prefix=settings.topic_prefix)
    await producer.start()
    t0 = datetime(2026, 3, 2, 15, tzinfo=UTC)
    statuses = (DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    envelopes = [
        wrap(
            DeliveryUpdated(
                account_id=rows[(n // 3) % accounts]["account_id"],
                step_id=f"stp-{n // 3}",
                channel=Channel.SMS,
                provider="twilio",
                provider_message_id=f"SM{n // 3}",
                status=statuses[n % 3],
                occurred_at=t0 + timedelta(seconds=n),
            ),
            "bench",
        )
        for n in range(events)
    ]
    await producer.publish(envelopes)
    await producer.stop()
    consumer = build_ledger(settings.model_copy(update={"ledger_relay": False}))
    started = time.perf_counter()
    await consumer.runtime.start()
    try:
        loop = consumer.loop
        assert loop is not None
        while loop.stats.handled < events:  # noqa: ASYNC110 - polling the loop's counter
            await asyncio.sleep(0.05)
        consume_s = time.perf_counter() - started
    finally:
        await consumer.runtime.stop()
    say(f"consumer: {events} delivery events recorded in {consume_s:.2f} s "
          f"({events / consume_s:,.0f} events/s, batches of up to "
          f"{settings.ledger_max_records}; includes group join)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.events))
