"""Payments and plans in PostgreSQL. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.models import Payment, PaymentPlan


class SqlPaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_payment(self, payment_id: str) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def add_payment(self, payment: Payment) -> None:
        self.session.add(payment)
        await self.session.flush()

    async def payments_of(self, account_id: str) -> Sequence[Payment]:
        result = await self.session.scalars(
            select(Payment).where(Payment.account_id == account_id).order_by(Payment.received_at)
        )
        return result.all()

    async def get_plan(self, plan_id: str) -> PaymentPlan | None:
        return await self.session.get(PaymentPlan, plan_id)

    async def add_plan(self, plan: PaymentPlan) -> None:
        self.session.add(plan)
        await self.session.flush()

    async def plans_of(self, account_id: str) -> Sequence[PaymentPlan]:
        result = await self.session.scalars(
            select(PaymentPlan)
            .where(PaymentPlan.account_id == account_id)
            .order_by(PaymentPlan.agreed_at)
        )
        return result.all()
