"""Reading one account's money (GET .../money) and what the terms offer it today."""

from __future__ import annotations

from datetime import date
from typing import Any

from dunning_ledger.accounts.service import existing_account
from dunning_ledger.domain.lifecycle import Allocation
from dunning_ledger.domain.schedule import offers
from dunning_ledger.money.schemas import (
    DiscountOut,
    Itemization,
    MoneyOut,
    MoneyPayment,
    MoneyPlan,
    MoneyPromise,
    MoneySettlement,
    OffersOut,
    PlanOfferOut,
    SettlementOfferOut,
)
from dunning_ledger.payments.state import MoneyUseCase, load, local_today
from dunning_ledger.plans.schemas import installment_out


def itemization_of(
    debt: dict[str, Any], imported_minor: int, created_on: date, paid: int, forgiven: int
) -> Itemization:
    """The creditor's itemization (the import's) with what the ledger took since added to
    its payments and credits; without one, from the charge-off or due date."""
    given = debt.get("itemization")
    if given:
        return Itemization(
            itemization_date=date.fromisoformat(str(given["itemization_date"])),
            basis=str(given["basis"]),
            amount_on_itemization_date_minor=int(given["amount_minor"]),
            interest_minor=int(given.get("interest_minor", 0)),
            fees_minor=int(given.get("fees_minor", 0)),
            payments_minor=int(given.get("payments_minor", 0)) + paid,
            credits_minor=int(given.get("credits_minor", 0)) + forgiven,
        )
    due = debt.get("charged_off_on") or debt.get("due_date")
    return Itemization(
        itemization_date=date.fromisoformat(str(due)) if due else created_on,
        amount_on_itemization_date_minor=imported_minor,
        interest_minor=0,
        fees_minor=0,
        payments_minor=paid,
        credits_minor=forgiven,
    )


class MoneyService(MoneyUseCase):
    async def money(self, account_id: str) -> MoneyOut:
        async with self.transactions() as tx:
            account = await existing_account(tx, account_id)
            rows = await load(tx, account)
            payments = await tx.payments.payments_of(account_id)
            reversed_ids = {r.payment_id for r in await tx.payments.reversals_of(account_id)}
            await tx.commit()
        live = [p for p in payments if p.payment_id not in reversed_ids]
        allocations = [
            Allocation.of_json(p.allocation) if p.allocation else Allocation(p.amount_minor)
            for p in live
        ]
        itemization = itemization_of(
            account.debt,
            account.imported_balance_minor,
            account.created_at.date(),
            sum(a.to_balance for a in allocations),
            sum(a.forgiven for a in allocations),
        )
        return MoneyOut(
            account_id=account.account_id,
            debt_id=account.debt_id,
            currency=account.currency,
            balance_minor=account.balance_minor,
            status="settled" if account.balance_minor == 0 else "open",
            credit_minor=account.credit_minor or 0,
            itemization=itemization,
            plans=[
                MoneyPlan(
                    plan_id=p.plan_id,
                    status=p.status,
                    frequency=p.frequency,
                    total_minor=p.total_minor or p.instalment_minor * p.instalments,
                    installments=[installment_out(i) for i in rows.installments_of(p.plan_id)],
                )
                for p in rows.plans
            ],
            promises=[MoneyPromise.model_validate(p) for p in rows.promises],
            settlements=[MoneySettlement.model_validate(s) for s in rows.settlements],
            payments=[
                MoneyPayment(
                    payment_id=p.payment_id,
                    amount_minor=p.amount_minor,
                    received_at=p.received_at,
                    method=p.method,
                    source=p.source,
                    reversed=p.payment_id in reversed_ids,
                )
                for p in payments
            ],
        )

    async def offers(self, account_id: str) -> OffersOut:
        now = self.clock.now()
        async with self.transactions() as tx:
            account = await existing_account(tx, account_id)
            rows = await load(tx, account)
            await tx.commit()
        arranged = rows.active_plan() is not None or rows.open_settlement() is not None
        balance = account.balance_minor
        today = local_today(account, now)
        found = offers(balance, self.terms, today, account.created_at.date(), arranged=arranged)
        return OffersOut(
            balance_minor=balance,
            currency=account.currency,
            plan_offers=[PlanOfferOut.model_validate(o) for o in found.plans],
            settlement=None
            if found.settlement is None
            else SettlementOfferOut.model_validate(found.settlement),
            early_discount=None
            if found.early_discount is None
            else DiscountOut.model_validate(found.early_discount),
            min_part_payment_minor=min(self.terms.smallest_part_payment_minor, balance),
        )
