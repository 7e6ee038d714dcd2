"""Reading accounts, and the ledger-wide summary and health; helpers the other use cases share.

Every use case runs in one transaction that it commits itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import Event
from dunning_core.runtime.tracing import new_traceparent

from dunning_ledger.config import SERVICE
from dunning_ledger.domain.payments import AccountTerms
from dunning_ledger.domain.search import (
    SearchError,
    SearchFilters,
    build_query,
    encode_cursor,
)
from dunning_ledger.domain.summary import build_summary
from dunning_ledger.errors import InvalidCursor, InvalidRequest, NotFound
from dunning_ledger.models import Account, ConsumerFlag, Dispute, Payment, PaymentPlan
from dunning_ledger.ports import Transaction, UseCase


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    flags: Sequence[ConsumerFlag]
    disputes: Sequence[Dispute]
    payments: Sequence[Payment]
    plans: Sequence[PaymentPlan]


@dataclass(frozen=True, slots=True)
class SearchPage:
    accounts: Sequence[Account]
    next_cursor: str | None
    today: date  # the ledger's date, that days past due count from


class AccountService(UseCase):
    async def account(self, account_id: str) -> AccountView:
        async with self.transactions() as tx:
            account = await existing_account(tx, account_id)
            view = AccountView(
                account=account,
                flags=await tx.communications.flags_of(account_id),
                disputes=await tx.communications.disputes_of(account_id),
                payments=await tx.payments.payments_of(account_id),
                plans=await tx.payments.plans_of(account_id),
            )
            await tx.commit()
        return view

    async def search(self, filters: SearchFilters) -> SearchPage:
        today = self.clock.now().astimezone(UTC).date()
        try:
            query = build_query(filters, today)
        except SearchError as exc:
            if exc.field == "cursor":
                raise InvalidCursor(exc.message) from None
            raise InvalidRequest(exc.message, field=f"query.{exc.field}") from None
        async with self.transactions() as tx:
            found = await tx.accounts.search(query)
            await tx.commit()
        page = found[: query.limit]
        more = len(found) > query.limit
        return SearchPage(page, encode_cursor(page[-1].account_id) if more else None, today)

    async def summary(self) -> dict[str, Any]:
        async with self.transactions() as tx:
            counts = await tx.accounts.summary_counts()
            await tx.commit()
        return build_summary(counts)

    async def health(self) -> dict[str, Any]:
        async with self.transactions() as tx:
            await tx.accounts.ping()
            pending, oldest = await tx.outbox.backlog()
            await tx.commit()
        age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
        return {"ok": True, "outbox_pending": pending, "outbox_oldest_s": round(age, 1)}


async def existing_account(
    tx: Transaction, account_id: str, *, for_update: bool = False
) -> Account:
    """The account, or ``NotFound`` naming it (row-locked with ``for_update``)."""
    account = await tx.accounts.get(account_id, for_update=for_update)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    return account


async def locked_account(tx: Transaction, account_id: str) -> Account:
    """The account, row-locked: its payments, plans and signals are applied one at a time."""
    return await existing_account(tx, account_id, for_update=True)


def terms_of(account: Account) -> AccountTerms:
    return AccountTerms(
        account.account_id, account.debt_id, account.currency, account.balance_minor
    )


def envelope_of(event: Event, at: datetime) -> Envelope:
    """The event as the ledger announces it: its own source, a fresh trace."""
    return wrap(event, SERVICE, time=at, traceparent=new_traceparent())
