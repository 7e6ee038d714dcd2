"""The in-memory fake of the ledger's import staging and merge (``ImportRepository``).

Staged rows are kept as given; the merge plans them with the domain's ``plan_import``,
as the set-based SQL does, so the use-case tests see the same counts and events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from dunning_ledger.domain.accounts import AccountChange, StoredAccount, plan_import
from dunning_ledger.domain.import_format import RowError
from dunning_ledger.domain.import_rows import ImportedAccount
from dunning_ledger.imports.events import account_event
from dunning_ledger.models import Account
from dunning_ledger.ports import AccountRow

if TYPE_CHECKING:
    from dunning_testkit.ledger_memory import Tables


class MemoryImports:
    def __init__(self, tables: Tables, account_row: Callable[[Mapping[str, Any]], Account]) -> None:
        self.t = tables
        self.account_row = account_row
        self.staged: list[ImportedAccount] = []
        self.changed: list[AccountChange] = []
        self.opened_by: str | None = None

    async def stage(
        self, rows: Sequence[ImportedAccount], at: datetime, opened_by: str | None = None
    ) -> None:
        self.staged += rows  # opened at the merge (the SQL opens them here)
        self.opened_by = opened_by

    async def staged_errors(self, limit: int) -> tuple[list[RowError], int]:
        errors: list[RowError] = []
        first_of: dict[str, int] = {}
        first_of_debt: dict[str, int] = {}
        holders = {a.debt_id: a.account_id for a in self.t.accounts.values()}
        for a in self.staged:
            first = first_of.setdefault(a.account_id, a.row)
            if first != a.row:
                errors.append(RowError(a.row, "account_id", f"duplicate of row {first}", a.line))
                continue
            first = first_of_debt.setdefault(a.debt_id, a.row)
            if first != a.row:
                message = f"debt_id is already the debt of row {first}"
                errors.append(RowError(a.row, "debt_id", message, a.line))
            holder = holders.get(a.debt_id, a.account_id)
            if holder != a.account_id:
                message = f"is already the debt of account {holder!r}"
                errors.append(RowError(a.row, "debt_id", message, a.line))
        return errors[:limit], len(errors)

    async def take_rebalanced(self) -> list[tuple[ImportedAccount, StoredAccount]]:
        taken, kept = [], []
        for staged in self.staged:
            stored = self.t.accounts.get(staged.account_id)
            if (
                stored is not None
                and stored.paid_minor > 0
                and staged.balance_minor != stored.imported_balance_minor
            ):
                taken.append((staged, StoredAccount.of(stored)))
            else:
                kept.append(staged)
        self.staged = kept
        return taken

    async def merge(self, at: datetime) -> tuple[int, int]:
        accounts = self.staged
        stored = {
            a.account_id: StoredAccount.of(self.t.accounts[a.account_id])
            for a in accounts
            if a.account_id in self.t.accounts
        }
        plan = plan_import(accounts, stored)
        for c in plan.opened + plan.updated:
            old = self.t.accounts.get(c.account.account_id)
            self.t.accounts[c.account.account_id] = self._row(c, at, old, self.opened_by)
        self.t.outbox += [account_event(c, at, opened=True) for c in plan.opened]
        self.changed = plan.updated
        return len(plan.opened), len(plan.updated)

    async def updated(self, batch: int) -> AsyncIterator[list[AccountChange]]:
        for start in range(0, len(self.changed), batch):
            yield self.changed[start : start + batch]

    async def update_accounts(self, rows: Sequence[AccountRow]) -> None:
        for r in rows:
            old = self.t.accounts[r.account_id]
            self.t.accounts[r.account_id] = self.account_row(
                {
                    **{k: getattr(r, k) for k in AccountRow.__slots__ if k != "at"},
                    "consumer": orjson.loads(r.consumer),
                    "debt": orjson.loads(r.debt),
                    "paid_minor": old.paid_minor,
                    "created_at": old.created_at,
                    "updated_at": r.at,
                    "opened_by": old.opened_by,
                }
            )

    def _row(
        self, change: AccountChange, at: datetime, old: Account | None, opened_by: str | None
    ) -> Account:
        a = change.account
        return self.account_row(
            {
                "account_id": a.account_id,
                "revision": change.revision,
                "consumer": orjson.loads(a.consumer_json),
                "debt": orjson.loads(a.debt_json),
                "debt_id": a.debt_id,
                "currency": a.debt.balance.currency,
                "imported_balance_minor": a.debt.balance.amount_minor,
                "balance_minor": change.balance_minor,
                "status": change.status,
                "fingerprint": a.fingerprint,
                "paid_minor": 0 if old is None else old.paid_minor,
                "created_at": at if old is None else old.created_at,
                "updated_at": at,
                "opened_by": opened_by if old is None else old.opened_by,
            }
        )
