"""Agreeing a plan: from an offer, from its terms, or from the first API's body. Each is
checked against the payment terms, idempotent by ``plan_id``, stored with its schedule
and announced (PlanAgreed with every installment) in the transaction that records it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dunning_core.contracts.common import Money
from dunning_core.contracts.payments import Installment, PlanAgreed

from dunning_ledger.accounts.service import envelope_of, locked_account, terms_of
from dunning_ledger.domain.payments import PlanInput, check_debt, check_first_due, check_plan
from dunning_ledger.domain.schedule import (
    Scheduled,
    amounts_by_count,
    amounts_by_installment,
    check_within_terms,
    offers,
    schedule,
)
from dunning_ledger.domain.terms import Frequency
from dunning_ledger.errors import Conflict, InvalidRequest
from dunning_ledger.models import Account, PaymentPlan, PlanInstallment
from dunning_ledger.payments.service import minor_of
from dunning_ledger.payments.state import MoneyRows, MoneyUseCase, load, local_today
from dunning_ledger.plans.schemas import PlanIn


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: PaymentPlan
    installments: Sequence[PlanInstallment]
    replayed: bool


@dataclass(frozen=True, slots=True)
class Agreed:
    frequency: Frequency
    first_due: date
    plan: list[Scheduled]


class PlanService(MoneyUseCase):
    async def agree_plan(
        self, account_id: str, body: PlanIn, recorded_by: str | None = None
    ) -> PlanResult:
        """Idempotent by ``plan_id``: the same body again is the plan first agreed."""
        now = self.clock.now()
        async with self.transactions() as tx:
            account = await locked_account(tx, account_id)
            existing = await tx.payments.get(PaymentPlan, body.plan_id)
            if existing is not None:
                if existing.account_id != account_id or not _same(existing, body, account):
                    raise Conflict(f"plan {body.plan_id!r} was already agreed with other terms")
                stored = await tx.payments.installments_of(account_id)
                await tx.commit()
                return PlanResult(existing, _of(stored, existing.plan_id), replayed=True)
            today = local_today(account, now)
            rows = await load(tx, account)
            _check_unarranged(rows)
            agreed = self._agreed(account, rows, body, today)
            check_within_terms(agreed.plan, agreed.frequency, self.terms, today)
            total = sum(s.amount_minor for s in agreed.plan)
            row = PaymentPlan(
                plan_id=body.plan_id,
                account_id=account_id,
                debt_id=account.debt_id,
                instalment_minor=agreed.plan[0].amount_minor,
                currency=account.currency,
                instalments=len(agreed.plan),
                first_due=agreed.first_due,
                agreed_at=now,
                recorded_by=recorded_by,
                frequency=agreed.frequency,
                total_minor=total,
                status="active",
                source=body.source,
            )
            installments = [
                PlanInstallment(
                    plan_id=body.plan_id, seq=s.seq, account_id=account_id, due_on=s.due_on,
                    amount_minor=s.amount_minor, paid_minor=0,
                )
                for s in agreed.plan
            ]  # fmt: skip
            await tx.payments.add_plan(row, installments)
            currency = account.currency
            event = PlanAgreed(
                account_id=account_id,
                plan_id=body.plan_id,
                debt_id=account.debt_id,
                instalment=Money(amount_minor=row.instalment_minor, currency=currency),
                instalments=row.instalments,
                first_due=row.first_due,
                agreed_at=now,
                recorded_by=recorded_by,
                frequency=agreed.frequency,
                total=Money(amount_minor=total, currency=currency),
                schedule=[
                    Installment(
                        seq=s.seq,
                        due_on=s.due_on,
                        amount=Money(amount_minor=s.amount_minor, currency=currency),
                    )
                    for s in agreed.plan
                ],
                source=body.source,
            )
            await tx.outbox.announce([envelope_of(event, now)])
            await tx.commit()
        return PlanResult(row, installments, replayed=False)

    def _agreed(self, account: Account, rows: MoneyRows, body: PlanIn, today: date) -> Agreed:
        balance = account.balance_minor
        if balance <= 0:
            raise InvalidRequest(
                f"account {account.account_id!r} has no balance left to plan",
                "instalment" if body.instalment is not None else "plan_id",
            )
        if body.offer_id is not None:
            placed = account.created_at.date()
            offer = next(
                (
                    o
                    for o in offers(balance, self.terms, today, placed, arranged=False).plans
                    if o.offer_id == body.offer_id
                ),
                None,
            )
            if offer is None:
                raise InvalidRequest(
                    f"offer {body.offer_id!r} is not offered today (see GET .../offers)",
                    "offer_id",
                )
            amounts = amounts_by_count(offer.total_minor, offer.count)
            return Agreed(
                offer.frequency, offer.first_due, schedule(today, offer.frequency, amounts)
            )
        if body.instalment is not None or body.instalments is not None:
            return _first_api_plan(account, body, today)
        return _plan_from_terms(account, body, today)


def _first_api_plan(account: Account, body: PlanIn, today: date) -> Agreed:
    """The first API's body: ``instalments`` monthly payments of ``instalment`` (the last
    may be less), up to the balance."""
    if body.instalment is None or body.instalments is None or body.first_due is None:
        raise InvalidRequest(
            "the first API's plan needs instalment, instalments and first_due together",
            "instalment" if body.instalment is None else "instalments",
        )
    currency = body.currency or account.currency
    plan = PlanInput(
        plan_id=body.plan_id,
        debt_id=body.debt_id,
        instalment_minor=minor_of(body.instalment, currency, "instalment"),
        currency=currency,
        instalments=body.instalments,
        first_due=body.first_due,
    )
    check_plan(terms_of(account), plan, today)
    total = min(account.balance_minor, plan.instalment_minor * plan.instalments)
    amounts = amounts_by_installment(total, plan.instalment_minor)
    return Agreed("monthly", plan.first_due, schedule(plan.first_due, "monthly", amounts))


def _plan_from_terms(account: Account, body: PlanIn, today: date) -> Agreed:
    check_debt(terms_of(account), body.debt_id, body.currency or account.currency)
    if body.frequency is None:
        raise InvalidRequest("a plan needs a frequency (or an offer_id)", "frequency")
    if body.first_due is None:
        raise InvalidRequest("a plan needs a first_due date (or an offer_id)", "first_due")
    check_first_due(body.first_due, today)
    total = body.total_minor or account.balance_minor
    if total > account.balance_minor:
        raise InvalidRequest(
            f"total_minor {total} is more than the balance of {account.balance_minor}",
            "total_minor",
        )
    if body.installment_minor is not None:
        amounts = amounts_by_installment(total, body.installment_minor)
        if body.count is not None and len(amounts) != body.count:
            raise InvalidRequest(
                f"{body.count} installments of {body.installment_minor} do not add up to "
                f"{total}: it takes {len(amounts)}",
                "count",
            )
    elif body.count is not None:
        amounts = amounts_by_count(total, body.count)
    else:
        raise InvalidRequest("a plan needs count or installment_minor", "count")
    return Agreed(body.frequency, body.first_due, schedule(body.first_due, body.frequency, amounts))


def _check_unarranged(rows: MoneyRows) -> None:
    active = rows.active_plan()
    if active is not None:
        raise InvalidRequest(
            f"the account already has an active plan {active.plan_id!r}", "plan_id"
        )
    settlement = rows.open_settlement()
    if settlement is not None:
        raise InvalidRequest(
            f"the account has an open settlement {settlement.settlement_id!r}", "plan_id"
        )


def _same(existing: PaymentPlan, body: PlanIn, account: Account) -> bool:
    """Whether a replayed body asks for the plan stored (the fields it names agree)."""
    if body.instalment is not None:
        currency = body.currency or account.currency
        return (
            minor_of(body.instalment, currency, "instalment") == existing.instalment_minor
            and body.instalments == existing.instalments
            and body.first_due == existing.first_due
        )
    if body.offer_id is not None:
        return body.offer_id == f"{existing.frequency}-{existing.instalments}"
    named = (
        (body.frequency, existing.frequency),
        (body.first_due, existing.first_due),
        (body.count, existing.instalments),
        (body.installment_minor, existing.instalment_minor),
        (body.total_minor, existing.total_minor),
    )
    return all(given is None or given == stored for given, stored in named)


def _of(rows: Sequence[PlanInstallment], plan_id: str) -> list[PlanInstallment]:
    return sorted((r for r in rows if r.plan_id == plan_id), key=lambda r: r.seq)
