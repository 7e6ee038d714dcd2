"""Importing accounts: all rows or none, each change announced in the same transaction.

A file streams in: each piece is read into rows off the event loop, its rows validated by
``RowChecks`` (worker processes) a few pieces at a time, and the valid rows staged in file
order while the next pieces are checked; nothing is merged unless the whole file is valid.

New accounts are announced as ``AccountOpened``, changed ones as ``AccountUpdated``; an
account whose content was already recorded changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dunning_ledger.domain.accounts import AccountChange, BalanceKept, plan_import
from dunning_ledger.domain.import_format import RowError
from dunning_ledger.domain.import_rows import ImportedAccount, ValidatedImport, error_order
from dunning_ledger.domain.import_stream import (
    MAX_LISTED_ERRORS,
    CheckedRows,
    ImportProgress,
    ImportReader,
    ReadItem,
    RowReader,
    StreamFormat,
    check_rows,
)
from dunning_ledger.errors import ImportRejected
from dunning_ledger.imports.events import account_event
from dunning_ledger.ports import AccountRow, Clock, RowChecks, Transaction, Transactions, UseCase

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    received: int
    opened: int
    updated: int
    unchanged: int
    balances_kept: tuple[BalanceKept, ...] = ()


class ImportService(UseCase):
    def __init__(
        self, transactions: Transactions, clock: Clock, row_checks: RowChecks | None = None
    ) -> None:
        super().__init__(transactions, clock)
        self.row_checks = row_checks or _InThread()

    async def import_stream(
        self, chunks: AsyncIterator[bytes], fmt: StreamFormat, by: str | None = None
    ) -> ImportCounts:
        """A CSV or JSON Lines body as it arrives: all rows or none, never held whole.

        This process reads the body into numbered rows; ``row_checks`` validates them,
        several batches at once (other processes), taken back in file order and COPYed
        while the next ones are checked.
        """
        reader = RowReader(fmt)
        progress = ImportProgress()
        checks = self.row_checks

        def take(checked: CheckedRows) -> list[ImportedAccount]:
            progress.errors.add(checked.errors, checked.error_count)
            progress.received = reader.received
            return checked.accounts

        async def batches() -> AsyncIterator[list[ImportedAccount]]:
            pending: deque[asyncio.Future[CheckedRows]] = deque()
            try:
                async for piece in _pieces(chunks):
                    # Reading is CPU work too (CSV, UTF-8): off the event loop.
                    if items := await asyncio.to_thread(reader.feed, piece):
                        pending.append(asyncio.ensure_future(checks.check(items)))
                    while len(pending) > checks.in_flight:
                        yield take(await pending.popleft())
                if items := reader.close():
                    pending.append(asyncio.ensure_future(checks.check(items)))
                while pending:
                    yield take(await pending.popleft())
                progress.received = reader.received
            finally:
                for left in pending:  # the body broke off, or the import failed
                    left.cancel()

        return await self._import(batches(), progress, self.clock.now(), by)

    async def import_items(self, items: Sequence[Any], by: str | None = None) -> ImportCounts:
        """A JSON array of rows (a body small enough to be read whole)."""
        reader = ImportReader("jsonl")
        now = self.clock.now()

        async def batches() -> AsyncIterator[list[ImportedAccount]]:
            for start in range(0, len(items), _BATCH):
                yield await asyncio.to_thread(reader.items, items[start : start + _BATCH])

        return await self._import(batches(), reader, now, by)

    async def import_accounts(
        self, validated: ValidatedImport, by: str | None = None
    ) -> ImportCounts:
        """Rows already validated in memory (a small file): all rows or none."""
        if not validated.ok:
            raise ImportRejected(validated.errors, validated.received)
        now = self.clock.now()
        progress = ImportProgress(received=validated.received)

        async def batches() -> AsyncIterator[list[ImportedAccount]]:
            yield list(validated.accounts)

        return await self._import(batches(), progress, now, by)

    async def _import(
        self,
        batches: AsyncIterator[list[ImportedAccount]],
        progress: ImportProgress,
        now: datetime,
        by: str | None,
    ) -> ImportCounts:
        """``by``: the principal of the API key that imported the file, recorded on the
        accounts it opens."""
        async with contextlib.AsyncExitStack() as stack:
            # The transaction opens with the first valid rows: a file bad from the start
            # is refused without the database.
            started = time.perf_counter()
            staging = _Staging(stack, self.transactions, now, by)
            await staging.stage_all(batches, progress)
            staged_s = time.perf_counter() - started
            tx = staging.tx
            found: list[RowError] = []
            found_count = 0
            if tx is not None and not progress.errors.count:
                found, found_count = await tx.imports.staged_errors(MAX_LISTED_ERRORS)
            if progress.errors.count or found_count:
                listed = sorted(progress.errors.listed + found, key=error_order)
                raise ImportRejected(
                    listed[:MAX_LISTED_ERRORS],
                    progress.received,
                    progress.errors.count + found_count,
                )
            if tx is None:
                return ImportCounts(progress.received, 0, 0, 0)
            rebalanced = await tx.imports.take_rebalanced()
            plan = plan_import([a for a, _ in rebalanced], {s.account_id: s for _, s in rebalanced})
            await tx.imports.update_accounts([_account_row(c, now) for c in plan.updated])
            await tx.outbox.announce([account_event(c, now, opened=False) for c in plan.updated])
            opened, updated = await tx.imports.merge(now)
            async for changes in tx.imports.updated(_BATCH):
                await tx.outbox.announce([account_event(c, now, opened=False) for c in changes])
            await tx.commit()
        staged = staging.count
        updated += len(plan.updated)
        counts = ImportCounts(
            received=progress.received,
            opened=opened,
            updated=updated,
            unchanged=staged - opened - updated,
            balances_kept=tuple(plan.balances_kept),
        )
        log.info(
            "accounts imported",
            extra={
                "opened": counts.opened,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "balances_kept": len(counts.balances_kept),
                "staging_s": round(staged_s, 1),
                "seconds": round(time.perf_counter() - started, 1),
            },
        )
        return counts


_BATCH = 2000  # rows per COPY and per outbox write
# Body bytes read and validated at a time (about 4,000 rows: one batch, one COPY and one
# statement): fewer, larger statements for PostgreSQL's one backend (1M rows: 1,000 of
# them at 256 KB, 7 s more). A few pieces are in memory at once, whatever the file's size.
_PIECE = 1024 * 1024


class _InThread:
    """Rows checked in a thread of this process, one batch ahead of the COPY."""

    in_flight = 1

    async def check(self, items: Sequence[ReadItem]) -> CheckedRows:
        return await asyncio.to_thread(check_rows, items)


async def _pieces(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body in pieces of about ``_PIECE`` bytes (a network chunk may be a few bytes)."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= _PIECE:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


class _Staging:
    """COPYs each batch (opening its new accounts) while the next one is validated; stops
    staging at the first error (the rest of the file is still read, for the error count)."""

    def __init__(
        self,
        stack: contextlib.AsyncExitStack,
        transactions: Transactions,
        at: datetime,
        by: str | None,
    ) -> None:
        self.stack = stack
        self.transactions = transactions
        self.at = at
        self.by = by
        self.tx: Transaction | None = None
        self.count = 0

    async def stage_all(
        self, batches: AsyncIterator[list[ImportedAccount]], progress: ImportProgress
    ) -> None:
        writing: asyncio.Future[None] | None = None
        try:
            async for rows in batches:
                if writing is not None:
                    await writing
                    writing = None
                if rows and not progress.errors.count:
                    if self.tx is None:
                        self.tx = await self.stack.enter_async_context(self.transactions())
                    self.count += len(rows)
                    writing = asyncio.ensure_future(self.tx.imports.stage(rows, self.at, self.by))
            if writing is not None:
                await writing
                writing = None
        finally:
            if writing is not None:  # the reading failed: let the COPY end before the rollback
                with contextlib.suppress(Exception):
                    await writing


def _account_row(change: AccountChange, at: datetime) -> AccountRow:
    account = change.account
    return AccountRow(
        account_id=account.account_id,
        revision=change.revision,
        consumer=account.consumer_json,
        debt=account.debt_json,
        debt_id=account.debt_id,
        currency=account.currency,
        imported_balance_minor=account.balance_minor,
        balance_minor=change.balance_minor,
        status=change.status,
        fingerprint=account.fingerprint,
        at=at,
    )
