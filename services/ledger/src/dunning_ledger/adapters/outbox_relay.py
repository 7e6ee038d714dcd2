"""The outbox relay: publishes committed outbox rows to Kafka, in order, then marks them.

One relay publishes at a time across all ledger replicas (a transaction-scoped advisory
lock), and rows are taken ``FOR UPDATE SKIP LOCKED``: several replicas are safe, and a
key's records reach Kafka in the order they were written. A batch is marked published
only after the broker acknowledged every record of it; if publishing fails the
transaction rolls back and the same rows go again (at-least-once; consumers dedupe on
``ce_id``). The relay wakes on ``NOTIFY ledger_outbox`` and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dunning_ledger.adapters.outbox import SqlOutbox
from dunning_ledger.ports import Clock, RawPublisher

log = logging.getLogger(__name__)

CHANNEL = "ledger_outbox"


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    failures: int = 0
    last_error: str | None = None
    last_batch_at: float = 0.0
    listening: bool = False


@dataclass(eq=False)
class OutboxRelay:
    sessions: async_sessionmaker[AsyncSession]
    publisher: RawPublisher
    clock: Clock
    _: KW_ONLY
    listen_dsn: str | None = field(repr=False)  # its password never in a repr
    batch_size: int = 1000
    poll_interval: float = 0.2
    retention: timedelta = timedelta(hours=24)
    publish_wait_s: float = 10.0
    stats: RelayStats = field(default_factory=RelayStats, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _listener: asyncpg.Connection | None = field(default=None, init=False)
    _last_listen_attempt: float = field(default=0.0, init=False)
    _last_purge: float = field(default=0.0, init=False)

    async def start(self) -> None:
        await self._listen()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
            self._listener = None
            self.stats.listening = False

    async def run(self) -> None:
        backoff = self.poll_interval
        while not self._stopping.is_set():
            try:
                published = await self.publish_once()
                backoff = self.poll_interval
                await self._housekeeping()
            except Exception as exc:  # the database or the broker: try again shortly
                self.stats.failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay failed, retrying", extra={"error": str(exc)})
                backoff = min(backoff * 2, 5.0)
                await self._sleep(backoff)
                continue
            if published < self.batch_size:
                await self._sleep(self.poll_interval)

    async def publish_once(self) -> int:
        """Publish up to one batch of pending rows; returns how many went out."""
        self._wake.clear()
        async with self.sessions.begin() as session:
            outbox = SqlOutbox(session)
            if not await outbox.try_relay_lock():
                return 0
            rows = await outbox.pending(self.batch_size)
            if not rows:
                return 0
            futures = [
                await self.publisher.send_raw(r.topic, r.key, r.value, r.headers) for r in rows
            ]
            await asyncio.gather(*futures)
            await outbox.mark_published([r.id for r in rows], self.clock.now())
        self.stats.published += len(rows)
        self.stats.batches += 1
        self.stats.last_batch_at = time.monotonic()
        return len(rows)

    async def drain(self, within: float = 30.0) -> int:
        """Publish until nothing is pending (tests, benchmarks); returns rows published."""
        total = 0
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            n = await self.publish_once()
            total += n
            if n == 0:
                async with self.sessions.begin() as session:
                    pending, _ = await SqlOutbox(session).backlog()
                if pending == 0:
                    return total
                await asyncio.sleep(0.05)
        return total

    async def published(self, key: str) -> bool:
        """Wake the relay and wait (``publish_wait_s`` at most) until nothing queued for
        ``key`` is unpublished. Another replica's relay may be the one publishing: the
        outbox table, not this process, says when it is done."""
        deadline = time.monotonic() + self.publish_wait_s
        self._wake.set()
        while True:
            try:
                async with self.sessions.begin() as session:
                    if not await SqlOutbox(session).pending_for(key.encode()):
                        return True
            except Exception as exc:  # the database: the records stay queued
                log.warning("outbox publication unknown", extra={"error": str(exc)})
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)

    async def health(self) -> dict[str, Any]:
        s = self.stats
        return {
            "ok": True,
            "published": s.published,
            "batches": s.batches,
            "failures": s.failures,
            "listening": s.listening,
            "last_error": s.last_error,
        }

    async def _sleep(self, seconds: float) -> None:
        if self._listener is None or self._listener.is_closed():
            self.stats.listening = False
            if time.monotonic() - self._last_listen_attempt > 5:
                await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; without one the relay still polls."""
        if self.listen_dsn is None:
            return
        self._last_listen_attempt = time.monotonic()
        try:
            connection = await asyncpg.connect(self.listen_dsn, timeout=5)
            await connection.add_listener(CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("outbox LISTEN unavailable, polling", extra={"error": str(exc)})
            return
        self._listener = connection
        self.stats.listening = True

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _housekeeping(self) -> None:
        if time.monotonic() - self._last_purge < 60:
            return
        self._last_purge = time.monotonic()
        async with self.sessions.begin() as session:
            purged = await SqlOutbox(session).purge_published(self.clock.now() - self.retention)
        if purged:
            log.info("outbox rows purged", extra={"rows": purged})
