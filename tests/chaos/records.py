"""The record the checker reads: every topic from its beginning (aiokafka, no consumer
group) and the ledger's tables, read-only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from dunning_core.contracts.envelope import EnvelopeError, decode


@dataclass
class Record:
    topic: str
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    partition: int = 0
    offset: int = -1


async def read_topics(bootstrap: str, topics: list[str]) -> dict[str, list[Record]]:
    """Every record of the topics, from the beginning to the end offsets of now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    found: dict[str, list[Record]] = {t: [] for t in topics}
    try:
        parts = [
            TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())
        ]
        if not parts:
            await consumer._client.force_metadata_update()
            parts = [
                TopicPartition(t, p)
                for t in topics
                for p in (consumer.partitions_for_topic(t) or ())
            ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        pending = {tp for tp in parts if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=2000, max_records=10000)
            for tp, records in batches.items():
                for r in records:
                    headers = list(r.headers or ())
                    found[tp.topic].append(
                        Record(
                            tp.topic, r.timestamp, r.key, r.value, headers, tp.partition, r.offset
                        )
                    )
                if records and records[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return found


def events_of(records: list[Record]) -> list[tuple[Record, Any]]:
    out = []
    for r in records:
        try:
            out.append((r, decode(r.key, r.value, r.headers).data))
        except EnvelopeError:
            continue  # poison: checked against the DLQs
    return out


async def ledger_rows(dsn: str) -> tuple[dict[str, dict[str, Any]], Counter[str], str]:
    """The communication log by step and the payment ids, read in a read-only transaction."""
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        return {}, Counter(), f"ledger database unreachable: {exc}"
    try:
        async with conn.transaction(readonly=True):
            log = await conn.fetch(
                "SELECT step_id, decision, delivery_status FROM ledger.communication_log"
            )
            payments = await conn.fetch("SELECT payment_id FROM ledger.payments")
    except asyncpg.PostgresError as exc:
        return {}, Counter(), f"ledger tables unreadable: {exc}"
    finally:
        await conn.close()
    return {r["step_id"]: dict(r) for r in log}, Counter(r["payment_id"] for r in payments), ""
