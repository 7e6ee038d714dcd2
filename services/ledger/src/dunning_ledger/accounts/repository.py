"""Accounts in PostgreSQL, and the counts of the ledger-wide summary. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from dunning_ledger.adapters.outbox import SqlOutbox
from dunning_ledger.adapters.sql import SqlRepository
from dunning_ledger.domain.search import AccountQuery
from dunning_ledger.domain.summary import SummaryCounts
from dunning_ledger.models import (
    Account,
    AccountChangeRecord,
    AccountNote,
    CommunicationLog,
    ConsumerFlag,
    Payment,
)
from dunning_ledger.ports import BalanceChange


class SqlAccountRepository(SqlRepository):
    async def get(self, account_id: str, *, for_update: bool = False) -> Account | None:
        return await self._one(
            select(Account).where(Account.account_id == account_id), for_update=for_update
        )

    async def set_balance(self, account_id: str, change: BalanceChange) -> None:
        await self.session.execute(
            update(Account).where(Account.account_id == account_id).values(**change.columns())
        )

    async def save_snapshot(
        self, account_id: str, *, revision: int, consumer: str, debt: str, at: datetime
    ) -> None:
        await self.session.execute(
            update(Account)
            .where(Account.account_id == account_id)
            .values(
                revision=revision,
                consumer=cast(literal(consumer, Text), JSONB),
                debt=cast(literal(debt, Text), JSONB),
                updated_at=at,
            )
        )

    async def add_change(self, change: AccountChangeRecord) -> None:
        await self._add(change)

    async def changes_of(self, account_id: str) -> Sequence[AccountChangeRecord]:
        return await self._of_account(AccountChangeRecord, account_id, AccountChangeRecord.id)

    async def add_note(self, note: AccountNote) -> None:
        await self._add(note)

    async def notes_of(self, account_id: str) -> Sequence[AccountNote]:
        return await self._of_account(
            AccountNote, account_id, AccountNote.created_at, AccountNote.note_id
        )

    async def search(self, query: AccountQuery) -> Sequence[Account]:
        """Up to ``query.limit + 1`` matching accounts after the cursor, in account_id order."""
        where: list[ColumnElement[bool]] = []
        if query.account_id is not None:
            where.append(Account.account_id == query.account_id)
        if query.after is not None:
            where.append(Account.account_id > query.after)
        if query.name is not None:
            name = func.lower(Account.consumer["full_name"].astext)
            where.append(name.contains(query.name, autoescape=True))
        # Phone and email by their contact points (the GIN index of revision 0013), found
        # first (materialised): ordered by account_id under a LIMIT, the planner would
        # otherwise walk the primary key, misjudging how few accounts hold a number.
        contact = [query.phone] if query.phone is not None else []
        if query.email is not None:
            contact.append(query.email)
        if contact:
            hits = (
                select(Account.account_id)
                .where(_contact_points().contains(literal(contact, JSONB)))
                .cte("contact_hits")
                .prefix_with("MATERIALIZED")
            )
            where.append(Account.account_id.in_(select(hits.c.account_id)))
        if query.state is not None:
            where.append(_contact_points().contains(literal([query.state], JSONB)))
        if query.status is not None:
            where.append(Account.status == query.status)
        if query.currency is not None:
            where.append(Account.currency == query.currency)
        if query.balance_min_minor is not None:
            where.append(Account.balance_minor >= query.balance_min_minor)
        if query.balance_max_minor is not None:
            where.append(Account.balance_minor <= query.balance_max_minor)
        due = Account.debt["due_date"].astext  # ISO dates: text order is date order
        if query.due_on_or_before is not None:
            where.append(due <= query.due_on_or_before.isoformat())
        if query.due_on_or_after is not None:
            where.append(due >= query.due_on_or_after.isoformat())
        if query.stage is not None:
            # The stage of the account's latest logged step: a step in that stage with no
            # later step (a semi-join, not a subquery per account).
            step, later = aliased(CommunicationLog), aliased(CommunicationLog)
            newer = select(later.step_id).where(
                later.account_id == step.account_id, later.created_at > step.created_at
            )
            in_stage = select(step.step_id).where(
                step.account_id == Account.account_id,
                step.stage == query.stage,
                ~newer.exists(),
            )
            where.append(in_stage.exists())
        statement = (
            select(Account).where(*where).order_by(Account.account_id).limit(query.limit + 1)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def summary_counts(self) -> SummaryCounts:
        s = self.session
        accounts = await s.execute(select(Account.status, func.count()).group_by(Account.status))
        steps = await s.execute(
            select(CommunicationLog.decision, func.count())
            .where(CommunicationLog.decision.is_not(None))
            .group_by(CommunicationLog.decision)
        )
        by_stage = await s.execute(
            select(CommunicationLog.stage, CommunicationLog.decision, func.count())
            .where(CommunicationLog.decision.is_not(None))
            .group_by(CommunicationLog.stage, CommunicationLog.decision)
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
            steps_by_stage=[(r[0], str(r[1]), int(r[2])) for r in by_stage],
            rule_hits=[(r[0], r[1], int(r[2])) for r in rules],
            deliveries=[(r[0], r[1], int(r[2])) for r in deliveries],
            payments=[(r[0], int(r[1]), int(r[2] or 0)) for r in payments],
            active_flags={r[0]: int(r[1]) for r in flags},
            outbox_pending=pending,
        )

    async def ping(self) -> None:
        await self.session.execute(text("SELECT 1"))


def _contact_points() -> ColumnElement[Any]:
    """``ledger.contact_points(consumer)``, exactly as the index is built on it: the
    consumer's numbers, addresses and state in one JSON array (revision 0013)."""
    return func.ledger.contact_points(Account.consumer, type_=JSONB)
