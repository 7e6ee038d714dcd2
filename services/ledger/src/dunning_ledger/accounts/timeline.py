"""The account timeline use case: every recorded fact about one account, worded and in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, StepDecided

from dunning_ledger.accounts.service import existing_account
from dunning_ledger.domain.money import format_minor
from dunning_ledger.domain.timeline import (
    Entry,
    Zone,
    change_entry,
    decision_entry,
    delivery_entry,
    in_order,
    note_entry,
    payment_entry,
    plan_entry,
    signal_entry,
    task_entry,
)
from dunning_ledger.domain.timeline_money import (
    credit_entry,
    ended_entry,
    installment_missed_entry,
    plan_end_entry,
    promise_entry,
    reversal_entry,
    settlement_entry,
)
from dunning_ledger.models import Account, CommunicationEvent, Payment, PaymentPlan
from dunning_ledger.ports import Transaction, Transactions


@dataclass(frozen=True, slots=True)
class Timeline:
    account: Account
    zone: Zone
    entries: Sequence[Entry]


def event_entry(e: CommunicationEvent) -> Entry:
    """A recorded event, read back through its contract."""
    if e.kind == "decision":
        entry = decision_entry(StepDecided.model_validate(e.payload), e.ce_source)
    elif e.kind == "delivery":
        entry = delivery_entry(DeliveryUpdated.model_validate(e.payload), e.ce_source)
    else:
        entry = signal_entry(ConsumerSignaled.model_validate(e.payload), e.recorded_by, e.ce_source)
    return replace(entry, seq=e.id)


def money_entries(payments: Sequence[Payment], plans: Sequence[PaymentPlan]) -> list[Entry]:
    entries = [
        payment_entry(
            p.received_at,
            f"{format_minor(p.amount_minor, p.currency)} {p.currency}",
            p.method,
            f"{format_minor(p.remaining_balance_minor, p.currency)} {p.currency}",
            p.recorded_by,
        )
        for p in payments
    ]
    entries += [
        plan_entry(
            p.agreed_at,
            f"{format_minor(p.instalment_minor, p.currency)} {p.currency}",
            p.instalments,
            p.first_due,
            p.recorded_by,
        )
        for p in plans
    ]
    return entries


async def arrangement_entries(tx: Transaction, account: Account) -> list[Entry]:
    """Installments missed, plans ended, promises, settlements, reversals and credits."""
    account_id, currency = account.account_id, account.currency

    def money(minor: int) -> str:
        return f"{format_minor(minor, currency)} {currency}"

    entries = [
        plan_end_entry(p.ended_at, p.plan_id, p.status)
        for p in await tx.payments.plans_of(account_id)
        if p.ended_at is not None
    ]
    entries += [
        installment_missed_entry(
            i.missed_at, i.plan_id, i.seq, i.due_on, money(i.amount_minor), money(i.paid_minor)
        )
        for i in await tx.payments.installments_of(account_id)
        if i.missed_at is not None
    ]
    for p in await tx.payments.promises_of(account_id):
        entries.append(
            promise_entry(
                p.made_at, p.promise_id, money(p.amount_minor), p.due_on, p.source, p.recorded_by
            )
        )
        if p.ended_at is not None:
            entries.append(ended_entry(p.ended_at, "promise", p.promise_id, p.status))
    for s in await tx.payments.settlements_of(account_id):
        entries.append(
            settlement_entry(
                s.agreed_at, s.settlement_id, money(s.amount_minor), money(s.balance_minor),
                s.pay_by, s.source, s.recorded_by,
            )
        )  # fmt: skip
        if s.ended_at is not None:
            entries.append(ended_entry(s.ended_at, "settlement", s.settlement_id, s.status))
    payments = {p.payment_id: p for p in await tx.payments.payments_of(account_id)}
    entries += [
        reversal_entry(
            r.reversed_at, r.payment_id, money(payments[r.payment_id].amount_minor), r.reason,
            r.source, r.recorded_by,
        )
        for r in await tx.payments.reversals_of(account_id)
    ]  # fmt: skip
    entries += [
        credit_entry(p.received_at, p.payment_id, money(int(p.allocation["credit"])))
        for p in payments.values()
        if p.allocation and p.allocation.get("credit")
    ]
    return entries


class TimelineService:
    def __init__(self, transactions: Transactions) -> None:
        self.transactions = transactions

    async def timeline(self, account_id: str) -> Timeline:
        async with self.transactions() as tx:
            account = await existing_account(tx, account_id)
            events = await tx.communications.events_of(account_id)
            payments = await tx.payments.payments_of(account_id)
            plans = await tx.payments.plans_of(account_id)
            changes = await tx.accounts.changes_of(account_id)
            notes = await tx.accounts.notes_of(account_id)
            tasks = await tx.tasks.changes_of(account_id)
            arrangements = await arrangement_entries(tx, account)
            await tx.commit()
        consumer = account.consumer
        opened = Entry(
            account.created_at,
            "account",
            f"account opened: {account.debt.get('creditor', '')} debt {account.debt_id}",
            by=account.opened_by,
            details={"debt_id": account.debt_id, "creditor": account.debt.get("creditor")},
        )
        entries = [opened, *(event_entry(e) for e in events)]
        entries += money_entries(payments, plans)
        entries += arrangements
        entries += [
            change_entry(c.changed_at, c.revision, c.changed, c.after, c.recorded_by)
            for c in changes
        ]
        entries += [note_entry(n.created_at, n.text, n.recorded_by) for n in notes]
        entries += [task_entry(c.at, c.task_id, c.action, c.by, c.note, c.seq) for c in tasks]
        zone = Zone.of(consumer.get("time_zones") or (), str(consumer.get("state", "")))
        return Timeline(account, zone, in_order(entries))
