"""Recording payments and reversing them: each idempotent by the payment's id, each
applied to the account's plan, promise and settlement, and announced through the outbox
in the transaction that records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dunning_core.contracts.common import Money
from dunning_core.contracts.events import Event
from dunning_core.contracts.payments import (
    AccountReopened,
    AccountSettled,
    CreditRecorded,
    PaymentReceived,
    PaymentReversed,
    PlanCompleted,
    PromiseKept,
)

from dunning_ledger.accounts.service import envelope_of, locked_account, terms_of
from dunning_ledger.domain.lifecycle import Allocation, Applied, apply_payment, reverse_payment
from dunning_ledger.domain.money import MoneyError, parse_minor
from dunning_ledger.domain.payments import PaymentInput, remaining_after
from dunning_ledger.errors import Conflict, InvalidRequest, NotFound
from dunning_ledger.models import Account, Payment, PaymentReversal
from dunning_ledger.payments.schemas import PaymentIn, ReversalIn
from dunning_ledger.payments.state import load, state_of, store
from dunning_ledger.ports import BalanceChange, Transaction, UseCase


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment: Payment
    replayed: bool


@dataclass(frozen=True, slots=True)
class ReversalResult(PaymentResult):
    """The payment reversed, with its reversal and the balance it left."""

    reversal: PaymentReversal
    balance_minor: int


class PaymentService(UseCase):
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
                amount_minor=minor_of(body.amount, currency, "amount"),
                currency=currency,
                method=body.method,
                received_at=body.received_at or now,
            )
            existing = await tx.payments.get(Payment, body.payment_id)
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
            remaining_after(terms_of(account), payment, now)  # refuses what cannot apply
            rows = await load(tx, account)
            applied = apply_payment(state_of(rows), payment.amount_minor)
            store(rows, applied.state, now)
            row = Payment(
                payment_id=payment.payment_id,
                account_id=account_id,
                debt_id=account.debt_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                method=payment.method,
                remaining_balance_minor=applied.state.balance_minor,
                received_at=payment.received_at,
                recorded_at=now,
                recorded_by=recorded_by,
                source=body.source,
                allocation=applied.allocation.as_json(),
            )
            await tx.payments.add(row)
            await _set_balance(tx, account, applied.allocation.to_balance, applied, now)
            events = received_events(account, row, applied, body.source, now)
            await tx.outbox.announce([envelope_of(e, now) for e in events])
            await tx.commit()
        return PaymentResult(row, replayed=False)

    async def reverse_payment(
        self, account_id: str, payment_id: str, body: ReversalIn, recorded_by: str | None = None
    ) -> ReversalResult:
        """Takes back what the payment did; idempotent by the payment's id."""
        now = self.clock.now()
        reversed_at = body.reversed_at or now
        async with self.transactions() as tx:
            account = await locked_account(tx, account_id)
            payment = await tx.payments.get(Payment, payment_id)
            if payment is None or payment.account_id != account_id:
                raise NotFound(f"no payment {payment_id!r} on account {account_id!r}")
            existing = await tx.payments.get(PaymentReversal, payment_id)
            if existing is not None:
                if existing.reason != body.reason or (
                    body.reversed_at is not None and existing.reversed_at != body.reversed_at
                ):
                    raise Conflict(f"payment {payment_id!r} was already reversed otherwise")
                await tx.commit()
                return ReversalResult(
                    payment, replayed=True, reversal=existing, balance_minor=account.balance_minor
                )
            allocation = (
                Allocation.of_json(payment.allocation)
                if payment.allocation is not None
                else Allocation(to_balance=payment.amount_minor)  # recorded before allocations
            )
            rows = await load(tx, account)
            before = state_of(rows, allocation)
            after = reverse_payment(before, allocation)
            store(rows, after, now)
            reversal = PaymentReversal(
                payment_id=payment_id,
                account_id=account_id,
                reason=body.reason,
                reversed_at=reversed_at,
                recorded_at=now,
                source=body.source,
                recorded_by=recorded_by,
            )
            await tx.payments.add(reversal)
            settled_before = account.balance_minor == 0 and account.status == "paid"
            paid = account.paid_minor - allocation.to_balance
            change = BalanceChange(after.balance_minor, paid, after.credit_minor, now)
            await tx.accounts.set_balance(account_id, change)
            currency = payment.currency
            events: list[Event] = [
                PaymentReversed(
                    account_id=account_id,
                    payment_id=payment_id,
                    debt_id=account.debt_id,
                    amount=Money(amount_minor=payment.amount_minor, currency=currency),
                    reason=body.reason,
                    remaining_balance=Money(amount_minor=after.balance_minor, currency=currency),
                    reversed_at=reversed_at,
                    plan_id=allocation.plan_id,
                    source=body.source,
                )
            ]
            if settled_before and after.balance_minor > 0:
                events.append(
                    AccountReopened(
                        account_id=account_id,
                        debt_id=account.debt_id,
                        by_payment_id=payment_id,
                        remaining_balance=Money(
                            amount_minor=after.balance_minor, currency=currency
                        ),
                        reopened_at=now,
                    )
                )
            await tx.outbox.announce([envelope_of(e, now) for e in events])
            await tx.commit()
        return ReversalResult(
            payment, replayed=False, reversal=reversal, balance_minor=after.balance_minor
        )


async def _set_balance(
    tx: Transaction, account: Account, to_balance: int, applied: Applied, at: datetime
) -> None:
    paid = account.paid_minor + to_balance
    change = BalanceChange(applied.state.balance_minor, paid, applied.state.credit_minor, at)
    await tx.accounts.set_balance(account.account_id, change)


def received_events(
    account: Account, payment: Payment, applied: Applied, source: str, now: datetime
) -> list[Event]:
    """PaymentReceived, then what it completed: credit, promise, plan, settlement."""
    currency, a = payment.currency, applied.allocation
    common = {"account_id": account.account_id, "debt_id": account.debt_id}
    events: list[Event] = [
        PaymentReceived(
            **common,
            payment_id=payment.payment_id,
            amount=Money(amount_minor=payment.amount_minor, currency=currency),
            remaining_balance=Money(amount_minor=applied.state.balance_minor, currency=currency),
            received_at=payment.received_at,
            method=payment.method,
            plan_id=a.plan_id,
            installments=[seq for seq, _ in a.installments],
            credit=Money(amount_minor=a.credit, currency=currency) if a.credit else None,
            source=source,
        )
    ]
    if a.credit:
        events.append(
            CreditRecorded(
                **common,
                payment_id=payment.payment_id,
                credit=Money(amount_minor=a.credit, currency=currency),
                recorded_at=now,
            )
        )
    if applied.promise_kept and a.promise_id is not None:
        events.append(
            PromiseKept(
                **common, promise_id=a.promise_id, payment_id=payment.payment_id, kept_at=now
            )
        )
    if applied.plan_completed and a.plan_id is not None:
        events.append(
            PlanCompleted(
                **common, plan_id=a.plan_id, completed_at=now, by_payment_id=payment.payment_id
            )
        )
    if applied.settled:
        how = (
            "settlement"
            if applied.settlement_paid
            else "plan_completed"
            if applied.plan_completed
            else "paid_in_full"
        )
        events.append(
            AccountSettled(
                **common,
                how=how,
                by_payment_id=payment.payment_id,
                settlement_id=a.settlement_id if applied.settlement_paid else None,
                settled_at=now,
            )
        )
    return events


def minor_of(amount: str, currency: str, field: str) -> int:
    try:
        return parse_minor(amount.strip(), currency)
    except MoneyError as exc:
        raise InvalidRequest(str(exc), field) from exc
