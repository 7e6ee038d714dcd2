"""Writing an import to PostgreSQL, set-based, in the import's one transaction.

Each batch of valid rows is COPYed into a small temporary table as it streams in, and its
new accounts are opened at once (one statement: the existence check an anti-join, the
accounts and their ``AccountOpened`` records written by INSERT ... SELECT, byte for byte
what ``outbox_record`` writes, only the trace ids drawn by the database), so PostgreSQL
writes while the next rows are still being checked. The batch then goes to the staging
table (a new account without its JSON: nothing more is done with it). After the last row
the whole file is checked (duplicates, debts held by other accounts) and the accounts it
changes are rewritten (one UPDATE ... FROM). The caller commits; a bad file is rolled
back, the accounts opened on the way and the temporary tables included."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from dunning_core.contracts.envelope import CONTENT_TYPE
from dunning_core.contracts.events import AccountOpened
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.adapters.sql import copy_records, driver
from dunning_ledger.domain.accounts import AccountChange, StoredAccount, status_for
from dunning_ledger.domain.import_fast import opened_id
from dunning_ledger.domain.import_format import RowError
from dunning_ledger.domain.import_rows import ImportedAccount
from dunning_ledger.errors import Conflict
from dunning_ledger.imports.events import SOURCE, instant_json, instant_text
from dunning_ledger.ports import AccountRow

log = logging.getLogger(__name__)

IMPORT_LOCK = 0x1ED6E4  # advisory lock id: one import merges at a time
_WORK_MEM = "64MB"
_GIN_PENDING = "64MB"
_STAGING_COLUMNS = (  # ImportedAccount's fields, in order
    "row", "line", "account_id", "debt_id", "currency", "imported_balance_minor",
    "consumer", "debt", "fingerprint", "ce_id",
)  # fmt: skip
_ACCOUNT_COLUMNS = (
    "account_id", "revision", "consumer", "debt", "debt_id", "currency",
    "imported_balance_minor", "paid_minor", "balance_minor", "status", "fingerprint",
    "created_at", "updated_at", "opened_by",
)  # fmt: skip
_BALANCE = "GREATEST(0, s.imported_balance_minor - a.paid_minor)"
_STATUS = "CASE WHEN {0} = 0 THEN 'paid' ELSE 'open' END"

_STAGED_ERRORS = """
WITH twice AS (
    SELECT row, line, account_id, min(row) OVER (PARTITION BY account_id) AS first
    FROM import_staging
    WHERE account_id IN (
        SELECT account_id FROM import_staging GROUP BY account_id HAVING count(*) > 1)
), again AS (
    SELECT row FROM twice WHERE row <> first
), debt_twice AS (
    SELECT row, line, min(row) OVER (PARTITION BY debt_id) AS first
    FROM import_staging
    WHERE debt_id IN (SELECT debt_id FROM import_staging GROUP BY debt_id HAVING count(*) > 1)
      AND row NOT IN (SELECT row FROM again)
), found AS (
    SELECT row, line, 'account_id' AS field, 'duplicate of row ' || first AS message
    FROM twice WHERE row <> first
    UNION ALL
    SELECT row, line, 'debt_id', 'debt_id is already the debt of row ' || first
    FROM debt_twice WHERE row <> first
    UNION ALL
    SELECT s.row, s.line, 'debt_id', 'is already the debt of account ''' || a.account_id || ''''
    FROM import_staging s JOIN ledger.accounts a
      ON a.debt_id = s.debt_id AND a.account_id <> s.account_id
    -- an account this import opened is not another account: its repeated debts are
    -- named by row above
    WHERE NOT EXISTS (
        SELECT 1 FROM import_staging o WHERE o.opened AND o.account_id = a.account_id)
)
SELECT row, line, field, message, count(*) OVER () AS total FROM found ORDER BY row LIMIT $1
"""
_TAKE_REBALANCED = """
WITH locked AS (
    SELECT a.account_id, a.revision, a.fingerprint, a.paid_minor, a.balance_minor,
           a.imported_balance_minor
    FROM ledger.accounts a JOIN import_staging s USING (account_id)
    WHERE a.paid_minor > 0 AND s.imported_balance_minor <> a.imported_balance_minor
    FOR UPDATE OF a
)
DELETE FROM import_staging s USING locked a WHERE s.account_id = a.account_id
RETURNING s.row, s.line, s.account_id, s.consumer, s.debt, s.fingerprint AS file_fingerprint,
          s.debt_id, s.currency, s.imported_balance_minor AS file_balance_minor, a.revision,
          a.fingerprint, a.paid_minor, a.balance_minor, a.imported_balance_minor
"""
_UPDATE = f"""
WITH changed AS (
    UPDATE ledger.accounts a SET revision = a.revision + 1, consumer = s.consumer::jsonb,
        debt = s.debt::jsonb, debt_id = s.debt_id, currency = s.currency,
        imported_balance_minor = s.imported_balance_minor, balance_minor = {_BALANCE},
        status = {_STATUS.format(_BALANCE)}, fingerprint = s.fingerprint, updated_at = $1
    FROM import_staging s
    WHERE a.account_id = s.account_id AND a.fingerprint <> s.fingerprint
    RETURNING a.account_id, a.revision, a.balance_minor
)
INSERT INTO import_updated SELECT account_id, revision, balance_minor FROM changed
"""
_FRESH = "NOT EXISTS (SELECT 1 FROM ledger.accounts a WHERE a.account_id = s.account_id)"
# One batch's new accounts opened, announced and the batch staged, in one statement. No
# ORDER BY for the outbox: each account has one event here, and Kafka orders per account
# (key) only. The value is the event's JSON as the model writes it (consumer and debt are
# staged as their models' JSON); the traceparent is drawn per row (a subquery with a
# volatile target list is evaluated once a row); the headers are written as JSON text
# (half the database's time of building them with jsonb_build_array). A row whose account
# is already there (or repeated in the batch) is staged whole for the checks and the merge
# after the last row.
_OPEN_BATCH = f"""
WITH fresh AS MATERIALIZED (
    SELECT DISTINCT ON (s.account_id) s.* FROM import_batch s WHERE {_FRESH}
    ORDER BY s.account_id, s.row
), opened AS (
    INSERT INTO ledger.accounts ({", ".join(_ACCOUNT_COLUMNS)})
    SELECT s.account_id, 1, s.consumer::jsonb, s.debt::jsonb, s.debt_id, s.currency,
           s.imported_balance_minor, 0, s.imported_balance_minor,
           {_STATUS.format("s.imported_balance_minor")}, s.fingerprint, $7, $7, $8
    FROM fresh s
    RETURNING 1
), announced AS (
    INSERT INTO ledger.outbox (topic, key, value, headers)
    SELECT $1, convert_to(s.account_id, 'UTF8'),
           convert_to('{{"account_id":' || to_json(s.account_id)::text
                      || ',"revision":1,"consumer":' || s.consumer || ',"debt":' || s.debt
                      || ',"opened_at":' || $2 || '}}', 'UTF8'),
           ('[["ce_specversion","1.0"],["ce_id",' || to_json(s.ce_id)::text
            || '],["ce_source",' || to_json($3::text)::text
            || '],["ce_type",' || to_json($4::text)::text
            || '],["ce_subject",' || to_json(s.account_id)::text
            || '],["ce_time",' || to_json($5::text)::text
            || '],["content-type",' || to_json($6::text)::text
            || '],["ce_traceparent","' || s.traceparent || '"],["traceparent","'
            || s.traceparent || '"]]')::jsonb
    FROM (SELECT account_id, consumer, debt, ce_id,
                 '00-' || md5(random()::text) || '-' || left(md5(random()::text), 16) || '-01'
                 AS traceparent
          FROM fresh) s
    RETURNING 1
), staged AS (
    INSERT INTO import_staging
    SELECT b.row, b.line, b.account_id, b.debt_id, b.currency, b.imported_balance_minor,
           CASE WHEN f.row IS NULL THEN b.consumer END, CASE WHEN f.row IS NULL THEN b.debt END,
           b.fingerprint, b.ce_id, f.row IS NOT NULL
    FROM import_batch b LEFT JOIN fresh f ON f.row = b.row
)
SELECT (SELECT count(*) FROM opened) AS opened, (SELECT count(*) FROM announced) AS announced
"""
_UPDATED = """
SELECT s.row, s.line, s.account_id, s.consumer, s.debt, s.fingerprint, s.debt_id, s.currency,
       s.imported_balance_minor AS file_balance_minor, u.revision, u.balance_minor
FROM import_updated u JOIN import_staging s USING (account_id) ORDER BY s.row
"""


class SqlImportRepository:
    def __init__(self, session: AsyncSession, topic_prefix: str = "") -> None:
        self.session = session
        self.topic_prefix = topic_prefix
        self._staging = False
        self.opened = 0  # accounts opened so far, as their batches were staged
        self.staging_s = 0.0  # PostgreSQL's time COPYing and opening them

    async def _connection(self) -> Any:
        return await driver(self.session)

    async def _execute(self, step: str, sql: str, *args: Any) -> int:
        """One statement of the merge, its row count, its time logged (debug)."""
        connection = await self._connection()
        started = time.perf_counter()
        status = await connection.execute(sql, *args)
        log.debug("import step", extra={"step": step, "seconds": _since(started)})
        return _count(status)

    async def stage(
        self, rows: Sequence[ImportedAccount], at: datetime, opened_by: str | None = None
    ) -> None:
        if not self._staging:
            # The checks and the merge hash and sort the whole file: in memory, not on disk
            # (for this transaction only; through the session, which begins it: the
            # driver's connection alone would run these outside it). One import writes
            # at a time.
            await self.session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
            # Each batch's statement planned for the accounts as they are now: a plan kept
            # from the first batches (few accounts) hashes the whole table for every batch
            # once it holds a million (perf: most of the database's time at 1M rows).
            await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            # The GIN indexes (names' trigrams, contact points) queue new entries in a
            # pending list and merge it into the index when it fills: a larger list, fewer
            # and larger merges (4 MB by default; 1M rows: 6 s less).
            await self.session.execute(text(f"SET LOCAL gin_pending_list_limit = '{_GIN_PENDING}'"))
        connection = await self._connection()
        if not self._staging:
            await connection.execute("SELECT pg_advisory_xact_lock($1)", IMPORT_LOCK)
            await connection.execute(
                "CREATE TEMP TABLE import_batch (row integer, line integer, "
                "account_id text, debt_id text, currency text, "
                "imported_balance_minor bigint, consumer text, debt text, "
                "fingerprint text, ce_id text) ON COMMIT DROP; "
                "CREATE TEMP TABLE import_staging "
                "(LIKE import_batch, opened boolean) ON COMMIT DROP"
            )
            self._staging = True
        else:
            # Created in this transaction: emptied in place.
            await connection.execute("TRUNCATE import_batch")
        started = time.perf_counter()
        await copy_records(self.session, "import_batch", _STAGING_COLUMNS, list(rows), schema=None)
        topic = f"{self.topic_prefix}{AccountOpened.topic}"
        try:
            counts = await connection.fetchrow(
                _OPEN_BATCH, topic, instant_json(at), SOURCE, AccountOpened.event_type,
                instant_text(at), CONTENT_TYPE, at, opened_by,
            )  # fmt: skip
        except (asyncpg.UniqueViolationError, sa_exc.IntegrityError) as exc:
            raise Conflict(
                "another import or operator created some of these accounts at the same time; retry"
            ) from exc
        if counts["opened"] != counts["announced"]:
            raise Conflict("the accounts changed while the import was merged; retry")
        self.opened += counts["opened"]
        self.staging_s += time.perf_counter() - started

    async def staged_errors(self, limit: int) -> tuple[list[RowError], int]:
        if not self._staging:
            return [], 0
        connection = await self._connection()
        # Temporary tables have no statistics; only the joined columns need them (the JSON
        # columns are wide: sampling them costs more than the rest of the analysis).
        await connection.execute(
            "ANALYZE import_staging (row, account_id, debt_id, imported_balance_minor, opened)"
        )
        started = time.perf_counter()
        rows = await connection.fetch(_STAGED_ERRORS, limit)
        log.debug("import step", extra={"step": "checks", "seconds": _since(started)})
        errors = [RowError(r["row"], r["field"], r["message"], r["line"]) for r in rows]
        return errors, rows[0]["total"] if rows else 0

    async def take_rebalanced(self) -> list[tuple[ImportedAccount, StoredAccount]]:
        if not self._staging:
            return []
        connection = await self._connection()
        return [
            (_imported(r, r["file_fingerprint"]), StoredAccount.of(_Columns(r)))
            for r in await connection.fetch(_TAKE_REBALANCED)
        ]

    async def merge(self, at: datetime) -> tuple[int, int]:
        if not self._staging:
            return 0, 0
        staged = round(self.staging_s, 3)
        log.debug("import step", extra={"step": "stage_and_open", "seconds": staged})
        connection = await self._connection()
        await connection.execute(
            "CREATE TEMP TABLE import_updated (account_id text, revision integer, "
            "balance_minor bigint) ON COMMIT DROP"
        )
        updated = await self._execute("update", _UPDATE, at)
        return self.opened, updated

    async def updated(self, batch: int) -> AsyncIterator[list[AccountChange]]:
        if not self._staging:
            return
        connection = await self._connection()
        changes: list[AccountChange] = []
        async for r in connection.cursor(_UPDATED, prefetch=batch):
            balance = r["balance_minor"]
            changes.append(
                AccountChange(
                    _imported(r, r["fingerprint"]), r["revision"], balance, status_for(balance)
                )
            )
            if len(changes) >= batch:
                yield changes
                changes = []
        if changes:
            yield changes

    async def update_accounts(self, rows: Sequence[AccountRow]) -> None:
        """Rewrite imported content: COPY into a temporary table, then one UPDATE ... FROM."""
        if not rows:
            return
        await self.session.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS account_import "
                "(LIKE ledger.accounts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
        )
        await copy_records(
            self.session, "account_import", _ACCOUNT_COLUMNS, _account_records(rows), schema=None
        )
        await self.session.execute(
            text(
                "UPDATE ledger.accounts a SET revision = i.revision, consumer = i.consumer, "
                "debt = i.debt, debt_id = i.debt_id, currency = i.currency, "
                "imported_balance_minor = i.imported_balance_minor, "
                "balance_minor = i.balance_minor, status = i.status, "
                "fingerprint = i.fingerprint, updated_at = i.updated_at "
                "FROM account_import i WHERE a.account_id = i.account_id"
            )
        )


class _Columns:
    """A stored account's columns out of a joined record (``StoredAccount.of`` reads them)."""

    def __init__(self, r: Any) -> None:
        self.account_id: str = r["account_id"]
        self.revision: int = r["revision"]
        self.fingerprint: str = r["fingerprint"]
        self.paid_minor: int = r["paid_minor"]
        self.balance_minor: int = r["balance_minor"]
        self.imported_balance_minor: int = r["imported_balance_minor"]


def _imported(r: Any, fingerprint: str) -> ImportedAccount:
    """A staged row back as the account the file gave (its models rebuilt from JSON)."""
    return ImportedAccount(
        r["row"], r["line"], r["account_id"], r["debt_id"], r["currency"],
        r["file_balance_minor"], r["consumer"], r["debt"], fingerprint,
        opened_id(r["account_id"]),
    )  # fmt: skip


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _count(status: str) -> int:
    """The row count of a command status such as ``INSERT 0 12`` or ``UPDATE 3``."""
    return int(status.rsplit(" ", 1)[-1])


def _account_records(rows: Sequence[AccountRow]) -> list[tuple[Any, ...]]:
    return [
        (r.account_id, r.revision, r.consumer, r.debt, r.debt_id, r.currency,
         r.imported_balance_minor, 0, r.balance_minor, r.status, r.fingerprint, r.at, r.at,
         None)
        for r in rows
    ]  # fmt: skip
