"""The periodic pass over due dates, on the injected clock: installments missed after the
grace days (InstallmentMissed), plans broken at the terms' count (PlanBroken), promises
broken after their date (PromiseBroken), settlements lapsed after their pay-by date
(SettlementLapsed); and operators' pauses whose ``until`` has come are ended
(``accounts.pauses``).

Each account is handled in a transaction of its own, under its row lock taken with SKIP
LOCKED: two ledger replicas passing at once split the accounts between them, and what one
marked the other reads as done, so nothing is announced twice. A lost database is ridden
out: the pass logs the outage once, retries, and logs when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta

from dunning_core.contracts.common import Money
from dunning_core.contracts.events import Event
from dunning_core.contracts.payments import (
    InstallmentMissed,
    PlanBroken,
    PromiseBroken,
    SettlementLapsed,
)

from dunning_ledger.accounts.pauses import PauseService
from dunning_ledger.accounts.service import envelope_of
from dunning_ledger.domain.lifecycle import Overdue, pass_due_dates
from dunning_ledger.models import Account
from dunning_ledger.payments.state import MoneyUseCase, load, local_today, state_of, store

log = logging.getLogger(__name__)


@dataclass
class PassStats:
    passes: int = 0
    announced: int = 0
    failures: int = 0
    down_since: datetime | None = None
    last_error: str | None = None


@dataclass(eq=False)
class DueDatePass(MoneyUseCase):
    _: KW_ONLY
    interval: float = 10.0
    batch: int = 1000
    pauses: PauseService | None = None
    stats: PassStats = field(default_factory=PassStats, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def pass_once(self) -> int:
        """One pass over every account with a date passed; returns the events announced."""
        now = self.clock.now()
        # The latest date anywhere on earth: each account's own zone decides below.
        before = now.astimezone(UTC).date() + timedelta(days=1)
        async with self.transactions() as tx:
            due = await tx.payments.accounts_due(before, self.terms.grace_days, self.batch)
            await tx.commit()
        announced = 0
        for account_id in due:
            announced += await self._pass_account(account_id, now)
        if self.pauses is not None:
            announced += await self.pauses.end_due(now)
        self.stats.passes += 1
        self.stats.announced += announced
        return announced

    async def _pass_account(self, account_id: str, now: datetime) -> int:
        async with self.transactions() as tx:
            account = await tx.payments.try_lock(account_id)
            if account is None:  # another replica holds it: its pass covers it
                return 0
            rows = await load(tx, account)
            overdue = pass_due_dates(
                state_of(rows),
                local_today(account, now),
                self.terms.grace_days,
                self.terms.missed_to_break,
            )
            events = list(overdue_events(account, overdue, now))
            if overdue.state != state_of(rows):
                store(rows, overdue.state, now)
            if events:
                await tx.outbox.announce([envelope_of(e, now) for e in events])
            await tx.commit()
        return len(events)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.pass_once()
            except Exception as exc:  # the database, most likely: ride it out
                self.stats.failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                if self.stats.down_since is None:
                    self.stats.down_since = self.clock.now()
                    log.warning("due-date pass failed, retrying", extra={"error": str(exc)})
            else:
                if self.stats.down_since is not None:
                    log.info("due-date pass recovered", extra={"since": str(self.stats.down_since)})
                    self.stats.down_since = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)

    async def start(self) -> None:
        self._stopping.clear()

    async def stop(self) -> None:
        self._stopping.set()

    async def health(self) -> dict[str, object]:
        s = self.stats
        return {
            "ok": True,  # the database check reports an outage; this pass rides it out
            "down": s.down_since is not None,
            "passes": s.passes,
            "announced": s.announced,
            "failures": s.failures,
            "last_error": s.last_error,
        }


def overdue_events(account: Account, overdue: Overdue, now: datetime) -> Iterator[Event]:
    """What the pass announces for the account, in this order: installments missed, the
    plan broken, the promise broken, the settlement lapsed."""
    common = {"account_id": account.account_id, "debt_id": account.debt_id}

    def money(minor: int) -> Money:
        return Money(amount_minor=minor, currency=account.currency)

    plan, promise, settlement = overdue.state.plan, overdue.state.promise, overdue.state.settlement
    for inst, count in zip(overdue.missed, overdue.missed_counts, strict=True):
        assert plan is not None
        yield InstallmentMissed(
            **common,
            plan_id=plan.plan_id,
            seq=inst.seq,
            due_on=inst.due_on,
            amount_due=money(inst.amount_minor),
            amount_paid=money(inst.paid_minor),
            missed_count=count,
            detected_at=now,
        )
    remaining = money(account.balance_minor)
    if overdue.plan_broken and plan is not None:
        yield PlanBroken(
            **common,
            plan_id=plan.plan_id,
            missed_count=plan.missed_count,
            remaining_balance=remaining,
            broken_at=now,
        )
    if overdue.promise_broken and promise is not None:
        yield PromiseBroken(
            **common,
            promise_id=promise.promise_id,
            due_on=promise.due_on,
            amount_paid=money(promise.paid_minor),
            broken_at=now,
        )
    if overdue.settlement_lapsed and settlement is not None:
        yield SettlementLapsed(
            **common,
            settlement_id=settlement.settlement_id,
            amount=money(settlement.amount_minor),
            amount_paid=money(settlement.paid_minor),
            pay_by=settlement.pay_by,
            remaining_balance=remaining,
            lapsed_at=now,
        )
