"""The portfolio figures' grouped counts in PostgreSQL. The caller commits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Date, cast, func, select, text, true
from sqlalchemy.dialects.postgresql import distinct_on

from dunning_ledger.adapters.sql import SqlRepository
from dunning_ledger.domain.figures import (
    NO_STAGE,
    RATE_KINDS,
    FigureCounts,
    PromiseFacts,
    promised_date,
)
from dunning_ledger.models import Account, CommunicationEvent, CommunicationLog, Payment, Promise


class SqlPortfolioRepository(SqlRepository):
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
            promises=[*await self._promises(), *await self._promised_signals()],
            accounts_by_status={r[0]: int(r[1]) for r in by_status},
            accounts_by_stage={r[0] or NO_STAGE: int(r[1]) for r in by_stage},
            collected=[(r[0], r[1], int(r[2]), int(r[3] or 0)) for r in collected],
            messages=[(r[0], str(r[1]), int(r[2])) for r in messages],
            rule_decisions=[(str(r[0]), str(r[1]), int(r[2])) for r in rules],
            messaged_accounts=int(messaged or 0),
            rate_accounts={name: int(rate_row._mapping[name]) for name in RATE_KINDS},
        )

    async def _promises(self) -> list[PromiseFacts]:
        rows = await self.session.execute(
            select(Promise.due_on, Promise.amount_minor, Promise.paid_minor, Promise.status)
        )
        return [PromiseFacts(r[0], int(r[1]), int(r[2]), r[3] != "open") for r in rows]

    async def _promised_signals(self) -> list[PromiseFacts]:
        """Each promised_to_pay signal with the first payment received from it on."""
        first = (
            select(Payment.received_at, Payment.amount_minor)
            .where(
                Payment.account_id == CommunicationEvent.account_id,
                Payment.received_at >= CommunicationEvent.occurred_at,
            )
            .order_by(Payment.received_at)
            .limit(1)
            .lateral()
        )
        rows = await self.session.execute(
            select(
                CommunicationEvent.payload["details"]["date"].astext,
                first.c.received_at,
                first.c.amount_minor,
            )
            .select_from(CommunicationEvent)
            .outerjoin(first, true())
            .where(
                CommunicationEvent.kind == "signal",
                CommunicationEvent.outcome == "promised_to_pay",
            )
        )
        facts = []
        for raw, paid_at, amount in rows:
            due = promised_date(raw)
            paid = (
                int(amount)
                if paid_at is not None and due and paid_at.astimezone(UTC).date() <= due
                else 0
            )
            facts.append(PromiseFacts(due, None, paid))
        return facts
