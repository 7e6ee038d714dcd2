"""In-memory fake of the ledger's ``PaymentRepository`` (payments, plans, installments,
promises, settlements, reversals), used by ``ledger_memory.MemoryLedger``.

Rows are shared between a transaction's copy of the tables and the committed ones: the
use cases update them in place, so a use case that fails after changing a row leaves the
change behind here (PostgreSQL would roll it back). The use cases check before they change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from dunning_ledger import models
from dunning_ledger.ports import MoneyRow, Recorded

if TYPE_CHECKING:
    from dunning_testkit.ledger_memory import Tables


@dataclass
class MoneyTables:
    installments: dict[tuple[str, int], models.PlanInstallment] = field(default_factory=dict)
    promises: dict[str, models.Promise] = field(default_factory=dict)
    settlements: dict[str, models.Settlement] = field(default_factory=dict)
    reversals: dict[str, models.PaymentReversal] = field(default_factory=dict)

    def copy(self) -> MoneyTables:
        return MoneyTables(
            dict(self.installments), dict(self.promises), dict(self.settlements),
            dict(self.reversals),
        )  # fmt: skip


class MemoryPayments:
    def __init__(self, tables: Tables) -> None:
        self.t = tables
        self.m = tables.money

    async def get(self, model: type[MoneyRow], key: str) -> MoneyRow | None:
        tables: tuple[Mapping[str, object], ...] = (
            self.t.payments,
            self.t.plans,
            self.m.promises,
            self.m.settlements,
            self.m.reversals,
        )
        found = (table.get(key) for table in tables)
        return next((row for row in found if isinstance(row, model)), None)

    async def add(self, row: Recorded) -> None:
        if isinstance(row, models.Payment):
            self.t.payments[row.payment_id] = row
        elif isinstance(row, models.Promise):
            self.m.promises[row.promise_id] = row
        elif isinstance(row, models.Settlement):
            self.m.settlements[row.settlement_id] = row
        else:
            self.m.reversals[row.payment_id] = row

    async def add_plan(
        self, plan: models.PaymentPlan, installments: Sequence[models.PlanInstallment] = ()
    ) -> None:
        plan.status = plan.status or "active"
        plan.frequency = plan.frequency or "monthly"
        self.t.plans[plan.plan_id] = plan
        for i in installments:
            i.missed_at = None
            self.m.installments[(i.plan_id, i.seq)] = i

    async def payments_of(self, account_id: str) -> Sequence[models.Payment]:
        return [p for p in self.t.payments.values() if p.account_id == account_id]

    async def plans_of(self, account_id: str) -> Sequence[models.PaymentPlan]:
        return [p for p in self.t.plans.values() if p.account_id == account_id]

    async def installments_of(self, account_id: str) -> Sequence[models.PlanInstallment]:
        found = [i for i in self.m.installments.values() if i.account_id == account_id]
        return sorted(found, key=lambda i: (i.plan_id, i.seq))

    async def promises_of(self, account_id: str) -> Sequence[models.Promise]:
        return [p for p in self.m.promises.values() if p.account_id == account_id]

    async def settlements_of(self, account_id: str) -> Sequence[models.Settlement]:
        return [s for s in self.m.settlements.values() if s.account_id == account_id]

    async def reversals_of(self, account_id: str) -> Sequence[models.PaymentReversal]:
        return [r for r in self.m.reversals.values() if r.account_id == account_id]

    async def accounts_due(self, before: date, grace_days: int, limit: int) -> Sequence[str]:
        late = {
            i.account_id
            for i in self.m.installments.values()
            if self.t.plans[i.plan_id].status == "active"
            and i.missed_at is None
            and i.paid_minor < i.amount_minor
            and i.due_on < before - timedelta(days=grace_days)
        }
        late |= {
            p.account_id
            for p in self.m.promises.values()
            if p.status == "open" and p.due_on < before
        }
        late |= {
            s.account_id
            for s in self.m.settlements.values()
            if s.status == "open" and s.pay_by < before
        }
        return sorted(late)[:limit]

    async def try_lock(self, account_id: str) -> models.Account | None:
        return self.t.accounts.get(account_id)
