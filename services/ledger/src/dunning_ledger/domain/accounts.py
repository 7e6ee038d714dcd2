"""What an import does to each account, and how an account's balance is derived (pure).

The ledger keeps the debt as it was imported (the creditor's placement) apart from the
payments recorded since: the current balance is the imported balance less what was paid,
never below zero. A re-import of the same content is therefore a no-op even after
payments. A re-import may change an account's data, and its balance while no payment
was recorded; once payments have moved the balance, a different balance in the file is
not applied: the ledger keeps its own and the import reports the difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from dunning_core.contracts.common import Money
from dunning_core.contracts.events import Debt

from dunning_ledger.domain.import_fast import fingerprint
from dunning_ledger.domain.import_rows import ImportedAccount

AccountStatus = Literal["open", "paid"]


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """What the ledger already holds about an account, as far as an import cares."""

    account_id: str
    revision: int
    fingerprint: str
    paid_minor: int
    # The balances stored; None when not known (the balance is then derived from the file).
    balance_minor: int | None = None
    imported_balance_minor: int | None = None

    @classmethod
    def of(cls, row: AccountColumns) -> StoredAccount:
        """From a stored account's columns (a database row, a model)."""
        return cls(
            row.account_id,
            row.revision,
            row.fingerprint,
            row.paid_minor,
            balance_minor=row.balance_minor,
            imported_balance_minor=row.imported_balance_minor,
        )


class AccountColumns(Protocol):
    """The columns of a stored account an import reads (a row or a model has them)."""

    account_id: str
    revision: int
    fingerprint: str
    paid_minor: int
    balance_minor: int
    imported_balance_minor: int


@dataclass(frozen=True, slots=True)
class BalanceKept:
    """A balance in the file that differs from the ledger's own after payments: not applied."""

    account_id: str
    row: int
    file_minor: int
    ledger_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class AccountChange:
    account: ImportedAccount
    revision: int
    balance_minor: int
    status: AccountStatus


@dataclass(frozen=True)
class ImportPlan:
    opened: list[AccountChange] = field(default_factory=list)
    updated: list[AccountChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    balances_kept: list[BalanceKept] = field(default_factory=list)


def current_balance(imported_minor: int, paid_minor: int) -> int:
    return max(0, imported_minor - paid_minor)


def status_for(balance_minor: int) -> AccountStatus:
    return "paid" if balance_minor == 0 else "open"


def plan_import(
    accounts: Sequence[ImportedAccount], stored: Mapping[str, StoredAccount]
) -> ImportPlan:
    """New accounts open at revision 1, changed ones move to revision + 1, the rest stay."""
    plan = ImportPlan()
    for account in accounts:
        existing = stored.get(account.account_id)
        if existing is None:
            balance = account.balance_minor
            plan.opened.append(AccountChange(account, 1, balance, status_for(balance)))
            continue
        balance = current_balance(account.balance_minor, existing.paid_minor)
        file_minor = account.balance_minor
        if (
            existing.paid_minor > 0  # payments have moved the balance ...
            and existing.balance_minor is not None
            and existing.imported_balance_minor is not None
            and file_minor != existing.imported_balance_minor  # ... and the file names another
        ):
            if file_minor != existing.balance_minor:
                plan.balances_kept.append(
                    BalanceKept(
                        account.account_id,
                        account.row,
                        file_minor,
                        existing.balance_minor,
                        account.currency,
                    )
                )
            account = with_imported_balance(account, existing.imported_balance_minor)
            balance = existing.balance_minor
        if existing.fingerprint != account.fingerprint:
            plan.updated.append(
                AccountChange(account, existing.revision + 1, balance, status_for(balance))
            )
        else:
            plan.unchanged.append(account.account_id)
    return plan


def with_imported_balance(account: ImportedAccount, balance_minor: int) -> ImportedAccount:
    """The imported account with the balance the ledger keeps as imported, re-fingerprinted."""
    debt_json = debt_with_balance(account.debt, balance_minor).model_dump_json()
    return account._replace(
        debt_json=debt_json,
        balance_minor=balance_minor,
        fingerprint=fingerprint(account.consumer_json, debt_json),
    )


def debt_with_balance(debt: Debt, balance_minor: int) -> Debt:
    """The debt as announced: the imported terms with the current balance."""
    if debt.balance.amount_minor == balance_minor:
        return debt
    return debt.model_copy(
        update={"balance": Money(amount_minor=balance_minor, currency=debt.balance.currency)}
    )
