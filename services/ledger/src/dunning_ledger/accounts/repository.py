"""Accounts in PostgreSQL, and the counts of the ledger-wide summary. The caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.adapters.outbox import SqlOutbox
from dunning_ledger.domain.accounts import AccountStatus
from dunning_ledger.domain.summary import SummaryCounts
from dunning_ledger.models import Account, CommunicationLog, ConsumerFlag, Payment


class SqlAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: str, *, for_update: bool = False) -> Account | None:
        query = select(Account).where(Account.account_id == account_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def set_balance(
        self,
        account_id: str,
        *,
        balance_minor: int,
        paid_minor: int,
        status: AccountStatus,
        at: datetime,
    ) -> None:
        await self.session.execute(
            update(Account)
            .where(Account.account_id == account_id)
            .values(
                balance_minor=balance_minor, paid_minor=paid_minor, status=status, updated_at=at
            )
        )

    async def summary_counts(self) -> SummaryCounts:
        s = self.session
        accounts = await s.execute(select(Account.status, func.count()).group_by(Account.status))
        steps = await s.execute(
            select(CommunicationLog.decision, func.count())
            .where(CommunicationLog.decision.is_not(None))
            .group_by(CommunicationLog.decision)
        )
        rule = func.unnest(CommunicationLog.rule_ids).table_valued("rule_id").render_derived()
        rules = await s.execute(
            select(CommunicationLog.decision, rule.c.rule_id, func.count())
            .select_from(CommunicationLog)
            .join(rule, text("true"))
            .where(CommunicationLog.decision.in_(("block", "defer")))
            .group_by(CommunicationLog.decision, rule.c.rule_id)
        )
        deliveries = await s.execute(
            select(CommunicationLog.channel, CommunicationLog.delivery_status, func.count())
            .where(
                CommunicationLog.delivery_status.is_not(None)
                | (CommunicationLog.decision == "allow")
            )
            .group_by(CommunicationLog.channel, CommunicationLog.delivery_status)
        )
        payments = await s.execute(
            select(Payment.currency, func.count(), func.sum(Payment.amount_minor)).group_by(
                Payment.currency
            )
        )
        flags = await s.execute(
            select(ConsumerFlag.flag, func.count(func.distinct(ConsumerFlag.account_id)))
            .where(ConsumerFlag.active)
            .group_by(ConsumerFlag.flag)
        )
        pending, _ = await SqlOutbox(s).backlog()
        return SummaryCounts(
            accounts_by_status={r[0]: int(r[1]) for r in accounts},
            steps_by_decision={str(r[0]): int(r[1]) for r in steps},
            rule_hits=[(r[0], r[1], int(r[2])) for r in rules],
            deliveries=[(r[0], r[1], int(r[2])) for r in deliveries],
            payments=[(r[0], int(r[1]), int(r[2] or 0)) for r in payments],
            active_flags={r[0]: int(r[1]) for r in flags},
            outbox_pending=pending,
        )

    async def ping(self) -> None:
        await self.session.execute(text("SELECT 1"))
