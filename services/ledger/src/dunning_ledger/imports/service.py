"""Importing accounts: all rows or none, each change announced in the same transaction.

New accounts are announced as ``AccountOpened``, changed ones as ``AccountUpdated``; an
account whose content was already recorded changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import AccountOpened, AccountUpdated, Event

from dunning_ledger.accounts.service import envelope_of
from dunning_ledger.domain.accounts import (
    AccountChange,
    BalanceKept,
    debt_with_balance,
    plan_import,
)
from dunning_ledger.domain.import_format import RowError
from dunning_ledger.domain.import_rows import ValidatedImport
from dunning_ledger.errors import ImportRejected
from dunning_ledger.ports import AccountRow, Clock, Transactions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    received: int
    opened: int
    updated: int
    unchanged: int
    balances_kept: tuple[BalanceKept, ...] = ()


class ImportService:
    def __init__(self, transactions: Transactions, clock: Clock) -> None:
        self.transactions = transactions
        self.clock = clock

    async def import_accounts(self, validated: ValidatedImport) -> ImportCounts:
        """All rows or none: a file with any error imports nothing."""
        if not validated.ok:
            raise ImportRejected(validated.errors, validated.received)
        now = self.clock.now()
        async with self.transactions() as tx:
            stored = await tx.imports.lock_accounts([a.account_id for a in validated.accounts])
            holders = await tx.imports.debt_holders([a.debt.debt_id for a in validated.accounts])
            taken = [
                RowError(a.row, "debt_id", f"is already the debt of account {holder!r}")
                for a in validated.accounts
                if (holder := holders.get(a.debt.debt_id, a.account_id)) != a.account_id
            ]
            if taken:
                raise ImportRejected(taken, validated.received)
            plan = plan_import(validated.accounts, stored)
            await tx.imports.insert_accounts([_account_row(c, now) for c in plan.opened])
            await tx.imports.update_accounts([_account_row(c, now) for c in plan.updated])
            await tx.outbox.announce(
                [_announced(c, now, opened=True) for c in plan.opened]
                + [_announced(c, now, opened=False) for c in plan.updated]
            )
            await tx.commit()
        counts = ImportCounts(
            received=len(validated.accounts),
            opened=len(plan.opened),
            updated=len(plan.updated),
            unchanged=len(plan.unchanged),
            balances_kept=tuple(plan.balances_kept),
        )
        log.info(
            "accounts imported",
            extra={
                "opened": counts.opened,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "balances_kept": len(counts.balances_kept),
            },
        )
        return counts


def _announced(change: AccountChange, at: datetime, *, opened: bool) -> Envelope:
    account = change.account
    debt = debt_with_balance(account.debt, change.balance_minor)
    event: Event
    if opened:
        event = AccountOpened(
            account_id=account.account_id,
            revision=change.revision,
            consumer=account.consumer,
            debt=debt,
            opened_at=at,
        )
    else:
        event = AccountUpdated(
            account_id=account.account_id,
            revision=change.revision,
            consumer=account.consumer,
            debt=debt,
            updated_at=at,
        )
    return envelope_of(event, at)


def _account_row(change: AccountChange, at: datetime) -> AccountRow:
    account = change.account
    return AccountRow(
        account_id=account.account_id,
        revision=change.revision,
        consumer=account.consumer_json,
        debt=account.debt_json,
        debt_id=account.debt.debt_id,
        currency=account.debt.balance.currency,
        imported_balance_minor=account.debt.balance.amount_minor,
        balance_minor=change.balance_minor,
        status=change.status,
        fingerprint=account.fingerprint,
        at=at,
    )
