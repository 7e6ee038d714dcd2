"""The transactional outbox table: events queued with the change they announce, and the
relay's reads and marks. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from dunning_core.contracts.envelope import Envelope, encode
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.adapters.sql import copy_records
from dunning_ledger.models import OutboxRecord

RELAY_LOCK = 0x1ED6E3  # advisory lock id: one relay publishes at a time (keeps key order)


@dataclass(frozen=True, slots=True)
class PendingRecord:
    id: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class SqlOutbox:
    def __init__(self, session: AsyncSession, topic_prefix: str = "") -> None:
        self.session = session
        self.topic_prefix = topic_prefix

    async def announce(self, envelopes: Sequence[Envelope]) -> None:
        """Queue encoded records; the table's trigger NOTIFYs the relay at commit."""
        records = [outbox_record(e, self.topic_prefix) for e in envelopes]
        await copy_records(self.session, "outbox", ("topic", "key", "value", "headers"), records)

    async def announce_record(self, topic: str, key: bytes, value: bytes) -> None:
        """Queue one record that is no event (an API key's record on ``auth.keys.v1``)."""
        records = [(self.topic_prefix + topic, key, value, "[]")]
        await copy_records(self.session, "outbox", ("topic", "key", "value", "headers"), records)

    async def backlog(self) -> tuple[int, datetime | None]:
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxRecord.created_at)).where(
                    OutboxRecord.published_at.is_(None)
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def pending_for(self, key: bytes) -> bool:
        """Whether a record for ``key`` is still unpublished."""
        found = await self.session.scalar(
            select(OutboxRecord.id)
            .where(OutboxRecord.published_at.is_(None), OutboxRecord.key == key)
            .limit(1)
        )
        return found is not None

    async def try_relay_lock(self) -> bool:
        """Whether this transaction may publish; another replica holding it is publishing."""
        got = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": RELAY_LOCK}
        )
        return bool(got)

    async def pending(self, limit: int) -> list[PendingRecord]:
        rows = await self.session.execute(
            select(OutboxRecord.id, OutboxRecord.topic, OutboxRecord.key, OutboxRecord.value,
                   OutboxRecord.headers)
            .where(OutboxRecord.published_at.is_(None))
            .order_by(OutboxRecord.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        return [
            PendingRecord(r.id, r.topic, r.key, r.value, [(n, v.encode()) for n, v in r.headers])
            for r in rows
        ]

    async def mark_published(self, ids: Sequence[int], at: datetime) -> None:
        await self.session.execute(
            text(
                "UPDATE ledger.outbox SET published_at = :at WHERE id = ANY(CAST(:ids AS bigint[]))"
            ),
            {"at": at, "ids": list(ids)},
        )

    async def purge_published(self, before: datetime) -> int:
        result = await self.session.execute(
            text("DELETE FROM ledger.outbox WHERE published_at < :before"), {"before": before}
        )
        return int(getattr(result, "rowcount", 0) or 0)


def outbox_record(envelope: Envelope, topic_prefix: str) -> tuple[str, bytes, bytes, str]:
    """An envelope as an outbox row: topic, key, value and the headers as JSON."""
    key, value, headers = encode(envelope)
    return topic_prefix + envelope.data.topic, key, value, _headers_json(headers)


def _headers_json(headers: Sequence[tuple[str, bytes]]) -> str:
    return orjson.dumps([[name, value.decode()] for name, value in headers]).decode()
