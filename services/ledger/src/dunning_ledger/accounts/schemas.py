"""The account body: the account with its flags, disputes, payments and plans."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from dunning_ledger.communications.schemas import DisputeOut, FlagOut
from dunning_ledger.payments.schemas import Amount, PaymentOut, PlanOut

if TYPE_CHECKING:
    from dunning_ledger.accounts.service import AccountView
    from dunning_ledger.models import Account


class AccountOut(BaseModel):
    account_id: str
    revision: int
    status: str
    balance: Amount = Field(description="Imported balance less payments.")
    imported_balance: Amount
    paid: Amount
    consumer: dict[str, Any]
    debt: dict[str, Any] = Field(description="The debt as imported.")
    flags: list[FlagOut]
    disputes: list[DisputeOut]
    payments: list[PaymentOut]
    plans: list[PlanOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: AccountView) -> AccountOut:
        a: Account = view.account
        return cls(
            account_id=a.account_id,
            revision=a.revision,
            status=a.status,
            balance=Amount.of(a.balance_minor, a.currency),
            imported_balance=Amount.of(a.imported_balance_minor, a.currency),
            paid=Amount.of(a.paid_minor, a.currency),
            consumer=a.consumer,
            debt=a.debt,
            flags=[FlagOut.of(f) for f in view.flags],
            disputes=[DisputeOut.of(d) for d in view.disputes],
            payments=[PaymentOut.of(p, False) for p in view.payments],
            plans=[PlanOut.of(p) for p in view.plans],
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
