"""An account's money in its timeline: plans and their installments, promises,
settlements, reversals and credits, worded (pure; amounts arrive as display text).

What the ledger concludes by itself (an installment missed, a plan completed or broken, a
promise kept or broken, a credit kept) is by ``ledger``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal

from dunning_ledger.domain.timeline import Entry

BY_LEDGER: Final = "ledger"


def plan_end_entry(at: datetime, plan_id: str, status: str) -> Entry:
    how = {"completed": "completed: every installment paid", "broken": "broken"}.get(status, status)
    return Entry(
        at, "plan", f"plan {plan_id} {how}", by=BY_LEDGER,
        details={"plan_id": plan_id, "status": status},
    )  # fmt: skip


def installment_missed_entry(
    at: datetime, plan_id: str, seq: int, due_on: date, amount: str, paid: str
) -> Entry:
    return Entry(
        at,
        "installment",
        f"installment {seq} of plan {plan_id} missed: {amount} due {due_on.isoformat()}, "
        f"{paid} paid",
        by=BY_LEDGER,
        details={"plan_id": plan_id, "seq": seq, "due_on": due_on, "amount": amount, "paid": paid},
    )


def promise_entry(
    at: datetime, promise_id: str, amount: str, due_on: date, source: str | None, by: str | None
) -> Entry:
    return Entry(
        at,
        "promise",
        f"promise to pay {amount} by {due_on.isoformat()}",
        by=by or source,
        details={"promise_id": promise_id, "amount": amount, "due_on": due_on, "source": source},
    )


def settlement_entry(
    at: datetime,
    settlement_id: str,
    amount: str,
    balance: str,
    pay_by: date,
    source: str | None,
    by: str | None,
) -> Entry:
    return Entry(
        at,
        "settlement",
        f"settlement agreed: {amount} by {pay_by.isoformat()} for a balance of {balance}",
        by=by or source,
        details={
            "settlement_id": settlement_id, "amount": amount, "balance": balance,
            "pay_by": pay_by, "source": source,
        },
    )  # fmt: skip


def ended_entry(
    at: datetime, kind: Literal["promise", "settlement"], ident: str, status: str
) -> Entry:
    """A promise kept or broken, a settlement paid or lapsed."""
    key = "promise_id" if kind == "promise" else "settlement_id"
    return Entry(
        at, kind, f"{kind} {ident} {status}", by=BY_LEDGER, details={key: ident, "status": status}
    )


def reversal_entry(
    at: datetime, payment_id: str, amount: str, reason: str, source: str | None, by: str | None
) -> Entry:
    return Entry(
        at,
        "reversal",
        f"payment {payment_id} of {amount} reversed ({reason}): the balance is owed again",
        by=by or source,
        details={"payment_id": payment_id, "amount": amount, "reason": reason, "source": source},
    )


def credit_entry(at: datetime, payment_id: str, credit: str) -> Entry:
    details: dict[str, Any] = {"payment_id": payment_id, "credit": credit}
    return Entry(
        at, "credit", f"credit of {credit} kept: payment {payment_id} went beyond the balance",
        by=BY_LEDGER, details=details,
    )  # fmt: skip
