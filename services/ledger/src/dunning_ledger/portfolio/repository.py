"""The portfolio figures' grouped counts in PostgreSQL. The caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Date, cast, func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.domain.figures import NO_STAGE, RATE_KINDS, FigureCounts
from dunning_ledger.models import Account, CommunicationEvent, CommunicationLog, Payment


class SqlPortfolioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def figure_counts(self, since: datetime, until: datetime) -> FigureCounts:
        s = self.session
        by_status = await s.execute(select(Account.status, func.count()).group_by(Account.status))
        latest = (
            select(CommunicationLog.account_id, CommunicationLog.stage)
            .ext(distinct_on(CommunicationLog.account_id))
            .order_by(CommunicationLog.account_id, CommunicationLog.created_at.desc())
            .subquery()
        )
        by_stage = await s.execute(
            select(latest.c.stage, func.count())
            .select_from(Account)
            .outerjoin(latest, latest.c.account_id == Account.account_id)
            .group_by(latest.c.stage)
        )
        day = cast(func.timezone("UTC", Payment.received_at), Date)
        collected = await s.execute(
            select(day, Payment.currency, func.count(), func.sum(Payment.amount_minor))
            .where(Payment.received_at >= since, Payment.received_at < until)
            .group_by(day, Payment.currency)
        )
        # A step's outcome: its furthest delivery status, else its latest decision.
        outcome = func.coalesce(CommunicationLog.delivery_status, CommunicationLog.decision)
        messages = await s.execute(
            select(CommunicationLog.channel, outcome, func.count())
            .where(outcome.is_not(None))
            .group_by(CommunicationLog.channel, outcome)
        )
        finding = func.jsonb_array_elements(CommunicationEvent.payload["findings"]).table_valued(
            "value"
        )
        rule_id = finding.c.value.op("->>")("rule_id")
        action = finding.c.value.op("->>")("action")
        rules = await s.execute(
            select(rule_id, action, func.count())
            .select_from(CommunicationEvent)
            .join(finding, text("true"))
            .where(CommunicationEvent.kind == "decision")
            .group_by(rule_id, action)
        )
        messaged = await s.scalar(
            select(func.count(func.distinct(CommunicationEvent.account_id))).where(
                CommunicationEvent.kind == "delivery"
            )
        )
        signal = CommunicationEvent.outcome
        rates = await s.execute(
            select(
                *(
                    func.count(func.distinct(CommunicationEvent.account_id))
                    .filter(signal.in_(kinds))
                    .label(name)
                    for name, kinds in RATE_KINDS.items()
                )
            ).where(CommunicationEvent.kind == "signal")
        )
        rate_row = rates.one()
        return FigureCounts(
            accounts_by_status={r[0]: int(r[1]) for r in by_status},
            accounts_by_stage={r[0] or NO_STAGE: int(r[1]) for r in by_stage},
            collected=[(r[0], r[1], int(r[2]), int(r[3] or 0)) for r in collected],
            messages=[(r[0], str(r[1]), int(r[2])) for r in messages],
            rule_decisions=[(str(r[0]), str(r[1]), int(r[2])) for r in rules],
            messaged_accounts=int(messaged or 0),
            rate_accounts={name: int(rate_row._mapping[name]) for name in RATE_KINDS},
        )
