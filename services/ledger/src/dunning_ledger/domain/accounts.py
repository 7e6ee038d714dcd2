"""What an import does to each account, and how an account's balance is derived (pure).

The ledger keeps the debt as it was imported (the creditor's placement) apart from the
payments recorded since: the current balance is the imported balance less what was paid,
never below zero. A re-import of the same content is therefore a no-op even after
payments, and a re-import with a corrected balance still honours the payments made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from dunning_core.contracts.common import Money
from dunning_core.contracts.events import Debt

from dunning_ledger.domain.import_rows import ImportedAccount

AccountStatus = Literal["open", "paid"]


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """What the ledger already holds about an account, as far as an import cares."""

    account_id: str
    revision: int
    fingerprint: str
    paid_minor: int
    balance_minor: int | None = None
    imported_balance_minor: int | None = None


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
            balance = account.debt.balance.amount_minor
            plan.opened.append(AccountChange(account, 1, balance, status_for(balance)))
        elif existing.fingerprint != account.fingerprint:
            balance = current_balance(account.debt.balance.amount_minor, existing.paid_minor)
            plan.updated.append(
                AccountChange(account, existing.revision + 1, balance, status_for(balance))
            )
        else:
            plan.unchanged.append(account.account_id)
    return plan


def debt_with_balance(debt: Debt, balance_minor: int) -> Debt:
    """The debt as announced: the imported terms with the current balance."""
    if debt.balance.amount_minor == balance_minor:
        return debt
    return debt.model_copy(
        update={"balance": Money(amount_minor=balance_minor, currency=debt.balance.currency)}
    )
