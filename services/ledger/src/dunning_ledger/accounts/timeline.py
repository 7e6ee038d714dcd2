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
)
from dunning_ledger.models import Account, CommunicationEvent, Payment, PaymentPlan
from dunning_ledger.ports import Transactions


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
            await tx.commit()
        consumer = account.consumer
        opened = Entry(
            account.created_at,
            "account",
            f"account opened: {account.debt.get('creditor', '')} debt {account.debt_id}",
            details={"debt_id": account.debt_id, "creditor": account.debt.get("creditor")},
        )
        entries = [opened, *(event_entry(e) for e in events)]
        entries += money_entries(payments, plans)
        entries += [
            change_entry(c.changed_at, c.revision, c.changed, c.after, c.recorded_by)
            for c in changes
        ]
        entries += [note_entry(n.created_at, n.text, n.recorded_by) for n in notes]
        zone = Zone.of(consumer.get("time_zones") or (), str(consumer.get("state", "")))
        return Timeline(account, zone, in_order(entries))
