"""Recording payments and agreeing plans: each idempotent by its id, each announced
through the outbox in the transaction that records it."""

from __future__ import annotations

from dataclasses import dataclass

from dunning_core.contracts.common import Money
from dunning_core.contracts.events import PaymentReceived, PlanAgreed

from dunning_ledger.accounts.service import envelope_of, locked_account, terms_of
from dunning_ledger.domain.accounts import status_for
from dunning_ledger.domain.money import MoneyError, parse_minor
from dunning_ledger.domain.payments import PaymentInput, PlanInput, check_plan, remaining_after
from dunning_ledger.errors import Conflict, InvalidRequest
from dunning_ledger.models import Payment, PaymentPlan
from dunning_ledger.payments.schemas import PaymentIn, PlanIn
from dunning_ledger.ports import Clock, Transactions


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment: Payment
    replayed: bool


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: PaymentPlan
    replayed: bool


class PaymentService:
    def __init__(self, transactions: Transactions, clock: Clock) -> None:
        self.transactions = transactions
        self.clock = clock

    async def record_payment(
        self, account_id: str, body: PaymentIn, recorded_by: str | None = None
    ) -> PaymentResult:
        """Idempotent by ``payment_id``: a replay returns the payment first recorded.

        ``recorded_by`` is the principal of the API key that entered it."""
        now = self.clock.now()
        async with self.transactions() as tx:
            # The account row lock serialises payments of one account (and their events).
            account = await locked_account(tx, account_id)
            currency = body.currency or account.currency
            payment = PaymentInput(
                payment_id=body.payment_id,
                debt_id=body.debt_id,
                amount_minor=_minor(body.amount, currency, "amount"),
                currency=currency,
                method=body.method,
                received_at=body.received_at or now,
            )
            existing = await tx.payments.get_payment(body.payment_id)
            if existing is not None:
                if (
                    existing.account_id != account_id
                    or existing.amount_minor != payment.amount_minor
                    or existing.currency != payment.currency
                    or (payment.debt_id not in (None, existing.debt_id))
                ):
                    raise Conflict(
                        f"payment {body.payment_id!r} was already recorded with other details"
                    )
                await tx.commit()
                return PaymentResult(existing, replayed=True)
            remaining = remaining_after(terms_of(account), payment, now)
            row = Payment(
                payment_id=payment.payment_id,
                account_id=account_id,
                debt_id=account.debt_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                method=payment.method,
                remaining_balance_minor=remaining,
                received_at=payment.received_at,
                recorded_at=now,
                recorded_by=recorded_by,
            )
            await tx.payments.add_payment(row)
            await tx.accounts.set_balance(
                account_id,
                balance_minor=remaining,
                paid_minor=account.paid_minor + payment.amount_minor,
                status=status_for(remaining),
                at=now,
            )
            event = PaymentReceived(
                account_id=account_id,
                payment_id=payment.payment_id,
                debt_id=account.debt_id,
                amount=Money(amount_minor=payment.amount_minor, currency=payment.currency),
                remaining_balance=Money(amount_minor=remaining, currency=payment.currency),
                received_at=payment.received_at,
                method=payment.method,
            )
            await tx.outbox.announce([envelope_of(event, now)])
            await tx.commit()
        return PaymentResult(row, replayed=False)

    async def agree_plan(
        self, account_id: str, body: PlanIn, recorded_by: str | None = None
    ) -> PlanResult:
        """Idempotent by ``plan_id``."""
        now = self.clock.now()
        async with self.transactions() as tx:
            account = await locked_account(tx, account_id)
            currency = body.currency or account.currency
            plan = PlanInput(
                plan_id=body.plan_id,
                debt_id=body.debt_id,
                instalment_minor=_minor(body.instalment, currency, "instalment"),
                currency=currency,
                instalments=body.instalments,
                first_due=body.first_due,
            )
            existing = await tx.payments.get_plan(body.plan_id)
            if existing is not None:
                if (
                    existing.account_id != account_id
                    or existing.instalment_minor != plan.instalment_minor
                    or existing.instalments != plan.instalments
                    or existing.first_due != plan.first_due
                ):
                    raise Conflict(f"plan {body.plan_id!r} was already agreed with other terms")
                await tx.commit()
                return PlanResult(existing, replayed=True)
            debt_id = check_plan(terms_of(account), plan, now.date())
            row = PaymentPlan(
                plan_id=plan.plan_id,
                account_id=account_id,
                debt_id=debt_id,
                instalment_minor=plan.instalment_minor,
                currency=currency,
                instalments=plan.instalments,
                first_due=plan.first_due,
                agreed_at=now,
                recorded_by=recorded_by,
            )
            await tx.payments.add_plan(row)
            event = PlanAgreed(
                account_id=account_id,
                plan_id=plan.plan_id,
                debt_id=debt_id,
                instalment=Money(amount_minor=plan.instalment_minor, currency=currency),
                instalments=plan.instalments,
                first_due=plan.first_due,
                agreed_at=now,
                recorded_by=recorded_by,
            )
            await tx.outbox.announce([envelope_of(event, now)])
            await tx.commit()
        return PlanResult(row, replayed=False)


def _minor(amount: str, currency: str, field: str) -> int:
    try:
        return parse_minor(amount.strip(), currency)
    except MoneyError as exc:
        raise InvalidRequest(str(exc), field) from exc
