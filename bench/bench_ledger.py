"""Ledger figures on the real stack: import, outbox relay, payments, consumed events.

    uv run python -m bench.bench_ledger   (BENCH_LEDGER_ACCOUNTS=10000 BENCH_LEDGER_EVENTS=20000)

Each run uses its own database and topic prefix (both removed afterwards).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts import wrap
from dunning_core.contracts.account_import import to_csv
from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated
from dunning_core.runtime.kafka import EventProducer
from dunning_ledger.adapters.database import migrate
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.domain.import_rows import validate_csv
from dunning_testkit.paths import auth_headers
from dunning_testkit.stack import KAFKA, create_database, create_topics, drop_database

from bench.common import delete_topics, peak_rss_mb, percentiles_ms, report

ACCOUNTS = int(os.environ.get("BENCH_LEDGER_ACCOUNTS", "10000"))
EVENTS = int(os.environ.get("BENCH_LEDGER_EVENTS", "20000"))


async def main() -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    topics = await create_topics(prefix, partitions=6)
    name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    url = await create_database(name)
    settings = LedgerSettings(database_url=url, topic_prefix=prefix, group_id=f"{prefix}ledger")
    try:
        figures = await run(settings, ACCOUNTS, EVENTS)
    finally:
        await delete_topics(topics)
        await drop_database(name)
    report("ledger", {**figures, "peak_rss_mb": round(peak_rss_mb(), 1)})


async def run(settings: LedgerSettings, accounts: int, events: int) -> dict[str, Any]:
    # Relay and consumers off at first: each stage is timed on its own.
    ledger = build_ledger(settings.model_copy(update={"relay": False}))
    await migrate(ledger.engine)
    await ledger.producer.start()
    rows = sample_rows(accounts)
    data = to_csv(rows).encode()

    started = time.perf_counter()
    validated = validate_csv(data)
    validate_s = time.perf_counter() - started
    transport = httpx.ASGITransport(app=ledger.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ledger", headers=auth_headers()
    ) as http:
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
        assert validated.ok

        started = time.perf_counter()
        published = await ledger.relay.drain(within=120)
        relay_s = time.perf_counter() - started

        latencies = []
        for row in rows[:500]:
            t = time.perf_counter()
            paid = await http.post(
                f"/v1/accounts/{row['account_id']}/payments",
                json={"payment_id": f"P-{row['account_id']}", "amount": "1.00"},
            )
            latencies.append(time.perf_counter() - t)
            assert paid.status_code == 201, paid.text
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
    consumer = build_ledger(settings.model_copy(update={"relay": False}))
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
    return {
        "accounts": accounts,
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(accounts / import_s),
        "validation_only_s": round(validate_s, 2),
        "reimport_unchanged_s": round(reimport_s, 2),
        "outbox_records": published,
        "outbox_relay_records_per_s": round(published / relay_s),
        "outbox_batch": settings.outbox_batch,
        **{f"payment_{k}": v for k, v in percentiles_ms(latencies).items()},
        "payments_sequential": len(latencies),
        "consumed_delivery_events": events,
        "consumer_events_per_s_incl_group_join": round(events / consume_s),
        "consumer_max_records": settings.max_records,
    }


if __name__ == "__main__":
    asyncio.run(main())
