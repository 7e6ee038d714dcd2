"""Payments, plans and their installments, promises, settlements and reversals in
PostgreSQL. The caller commits; rows read here are updated in place by the use cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select

from dunning_ledger.adapters.sql import SqlRepository
from dunning_ledger.models import (
    Account,
    Payment,
    PaymentPlan,
    PaymentReversal,
    PlanInstallment,
    Promise,
    Settlement,
)
from dunning_ledger.ports import MoneyRow, Recorded


class SqlPaymentRepository(SqlRepository):
    async def get(self, model: type[MoneyRow], key: str) -> MoneyRow | None:
        return await self.session.get(model, key)

    async def add(self, row: Recorded) -> None:
        await self._add(row)

    async def add_plan(
        self, plan: PaymentPlan, installments: Sequence[PlanInstallment] = ()
    ) -> None:
        await self._add(plan)
        if installments:
            await self._add(*installments)

    async def payments_of(self, account_id: str) -> Sequence[Payment]:
        return await self._of_account(Payment, account_id, Payment.received_at, Payment.recorded_at)

    async def plans_of(self, account_id: str) -> Sequence[PaymentPlan]:
        return await self._of_account(PaymentPlan, account_id, PaymentPlan.agreed_at)

    async def installments_of(self, account_id: str) -> Sequence[PlanInstallment]:
        return await self._of_account(
            PlanInstallment, account_id, PlanInstallment.plan_id, PlanInstallment.seq
        )

    async def promises_of(self, account_id: str) -> Sequence[Promise]:
        return await self._of_account(Promise, account_id, Promise.made_at)

    async def settlements_of(self, account_id: str) -> Sequence[Settlement]:
        return await self._of_account(Settlement, account_id, Settlement.agreed_at)

    async def reversals_of(self, account_id: str) -> Sequence[PaymentReversal]:
        return await self._of_account(PaymentReversal, account_id, PaymentReversal.reversed_at)

    async def accounts_due(self, before: date, grace_days: int, limit: int) -> Sequence[str]:
        """Accounts with an installment unpaid past ``before - grace_days``, a promise
        open past ``before`` or a settlement open past ``before`` (their zone decides)."""
        late_installments = (
            select(PlanInstallment.account_id)
            .join(PaymentPlan, PaymentPlan.plan_id == PlanInstallment.plan_id)
            .where(
                PaymentPlan.status == "active",
                PlanInstallment.missed_at.is_(None),
                PlanInstallment.paid_minor < PlanInstallment.amount_minor,
                PlanInstallment.due_on < before - timedelta(days=grace_days),
            )
        )
        late_promises = select(Promise.account_id).where(
            Promise.status == "open", Promise.due_on < before
        )
        late_settlements = select(Settlement.account_id).where(
            Settlement.status == "open", Settlement.pay_by < before
        )
        result = await self.session.scalars(
            select(Account.account_id)
            .where(
                or_(
                    Account.account_id.in_(late_installments),
                    Account.account_id.in_(late_promises),
                    Account.account_id.in_(late_settlements),
                )
            )
            .order_by(Account.account_id)
            .limit(limit)
        )
        return result.all()

    async def try_lock(self, account_id: str) -> Account | None:
        """The account row-locked, or None when another transaction holds it (SKIP LOCKED)."""
        result = await self.session.execute(
            select(Account)
            .where(Account.account_id == account_id)
            .with_for_update(skip_locked=True)
        )
        return result.scalar_one_or_none()
