"""Writing an import to PostgreSQL: lock the accounts it names, COPY the new ones in,
rewrite the changed ones with one UPDATE ... FROM. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.adapters.sql import copy_records, text_array
from dunning_ledger.domain.accounts import StoredAccount
from dunning_ledger.errors import Conflict
from dunning_ledger.models import Account
from dunning_ledger.ports import AccountRow

_ACCOUNT_COLUMNS = (
    "account_id", "revision", "consumer", "debt", "debt_id", "currency",
    "imported_balance_minor", "paid_minor", "balance_minor", "status", "fingerprint",
    "created_at", "updated_at",
)  # fmt: skip


class SqlImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_accounts(self, account_ids: Sequence[str]) -> dict[str, StoredAccount]:
        if not account_ids:
            return {}
        rows = await self.session.execute(
            select(Account.account_id, Account.revision, Account.fingerprint, Account.paid_minor,
                   Account.balance_minor, Account.imported_balance_minor)
            .where(Account.account_id == func.any(text_array(account_ids)))
            .with_for_update()
        )  # fmt: skip
        return {r.account_id: StoredAccount.of(r) for r in rows}

    async def debt_holders(self, debt_ids: Sequence[str]) -> dict[str, str]:
        if not debt_ids:
            return {}
        rows = await self.session.execute(
            select(Account.debt_id, Account.account_id).where(
                Account.debt_id == func.any(text_array(debt_ids))
            )
        )
        return {r.debt_id: r.account_id for r in rows}

    async def insert_accounts(self, rows: Sequence[AccountRow]) -> None:
        try:
            await copy_records(self.session, "accounts", _ACCOUNT_COLUMNS, _records(rows))
        except (asyncpg.UniqueViolationError, sa_exc.IntegrityError) as exc:
            raise Conflict(
                "another import created some of these accounts at the same time; retry"
            ) from exc

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
            self.session, "account_import", _ACCOUNT_COLUMNS, _records(rows), schema=None
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


def _records(rows: Sequence[AccountRow]) -> list[tuple[Any, ...]]:
    return [
        (r.account_id, r.revision, r.consumer, r.debt, r.debt_id, r.currency,
         r.imported_balance_minor, 0, r.balance_minor, r.status, r.fingerprint, r.at, r.at)
        for r in rows
    ]  # fmt: skip
