"""A plan's schedule of installments, and the plans, settlements and discounts the terms
allow (pure).

Amounts are integer minor units that add up exactly to the plan's total:

- by count (``count`` installments): each is ``total // count`` and the **last** takes the
  remainder, so the last is the largest, by less than ``count`` minor units;
- by amount (``installment_minor`` each): as many as it takes, the **last** is what is
  left (between 1 and ``installment_minor``).

Due dates step from the first: weekly 7 days, biweekly 14 days, monthly on the first
date's day of month, or the month's last day when it is shorter (a plan starting on
31 January is due 28/29 February, 31 March, 30 April ...).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from dunning_ledger.domain.terms import Frequency, PaymentTerms
from dunning_ledger.errors import InvalidRequest

MAX_INSTALLMENTS = 600

OFFER_COUNTS: dict[Frequency, tuple[int, ...]] = {
    "weekly": (4, 8, 12),
    "biweekly": (2, 4, 6, 13),
    "monthly": (2, 3, 6, 12),
}
"""The counts offered per frequency, where the terms allow them."""


@dataclass(frozen=True, slots=True)
class Scheduled:
    seq: int
    due_on: date
    amount_minor: int


def due_date(first_due: date, frequency: Frequency, index: int) -> date:
    """The due date of installment ``index`` (0 for the first)."""
    if frequency == "weekly":
        return first_due + timedelta(days=7 * index)
    if frequency == "biweekly":
        return first_due + timedelta(days=14 * index)
    months = first_due.month - 1 + index
    year, month = first_due.year + months // 12, months % 12 + 1
    return date(year, month, min(first_due.day, calendar.monthrange(year, month)[1]))


def amounts_by_count(total_minor: int, count: int) -> list[int]:
    """``count`` amounts adding up to ``total_minor``; the last takes the remainder."""
    if count > MAX_INSTALLMENTS:
        raise InvalidRequest(f"a plan has at most {MAX_INSTALLMENTS} installments", "count")
    if count < 1 or total_minor < count:
        raise InvalidRequest(
            f"{count} installments cannot share {total_minor} minor units "
            "(each must be at least 1)",
            "count",
        )
    base = total_minor // count
    return [base] * (count - 1) + [total_minor - base * (count - 1)]


def amounts_by_installment(total_minor: int, installment_minor: int) -> list[int]:
    """Installments of ``installment_minor`` up to ``total_minor``; the last is what is left."""
    if installment_minor < 1:
        raise InvalidRequest("an installment must be more than zero", "installment_minor")
    full, rest = divmod(total_minor, installment_minor)
    if full + (1 if rest else 0) > MAX_INSTALLMENTS:
        raise InvalidRequest(
            f"installments of {installment_minor} minor units would take more than "
            f"{MAX_INSTALLMENTS} to pay {total_minor}",
            "installment_minor",
        )
    return [installment_minor] * full + ([rest] if rest else [])


def schedule(first_due: date, frequency: Frequency, amounts: list[int]) -> list[Scheduled]:
    return [
        Scheduled(seq=i + 1, due_on=due_date(first_due, frequency, i), amount_minor=amount)
        for i, amount in enumerate(amounts)
    ]


def check_within_terms(
    plan: list[Scheduled], frequency: Frequency, terms: PaymentTerms, today: date
) -> None:
    """Refuses a plan the terms do not allow, naming the field at fault."""
    if frequency not in terms.frequencies:
        allowed = ", ".join(terms.frequencies)
        raise InvalidRequest(
            f"frequency {frequency!r} is not allowed by the payment terms (allowed: {allowed})",
            "frequency",
        )
    regular = plan[0].amount_minor
    if len(plan) > 1 and regular < terms.smallest_installment_minor:
        raise InvalidRequest(
            f"an installment of {regular} minor units is below the smallest the terms allow "
            f"({terms.smallest_installment_minor})",
            "installment_minor",
        )
    days = (plan[-1].due_on - today).days
    if days > terms.longest_term_days:
        raise InvalidRequest(
            f"the last installment falls due {days} days from today, beyond the longest "
            f"term the payment terms allow ({terms.longest_term_days} days)",
            "count",
        )


@dataclass(frozen=True, slots=True)
class PlanOffer:
    offer_id: str
    frequency: Frequency
    count: int
    installment_minor: int
    first_due: date
    total_minor: int


@dataclass(frozen=True, slots=True)
class SettlementOffer:
    offer_id: str
    amount_minor: int
    pay_by: date


def settlement_floor(balance_minor: int, floor_percent: int) -> int:
    """The smallest settlement: the percentage of the balance, rounded up."""
    return -(-balance_minor * floor_percent // 100)


def plan_offers(balance_minor: int, terms: PaymentTerms, today: date) -> list[PlanOffer]:
    """Plans of the whole balance, starting today, that the terms allow."""
    offers = []
    for frequency in terms.frequencies:
        for count in OFFER_COUNTS[frequency]:
            if balance_minor < count:
                continue
            plan = schedule(today, frequency, amounts_by_count(balance_minor, count))
            try:
                check_within_terms(plan, frequency, terms, today)
            except InvalidRequest:
                continue
            offers.append(
                PlanOffer(
                    f"{frequency}-{count}", frequency, count, plan[0].amount_minor, today,
                    balance_minor,
                )
            )  # fmt: skip
    return offers


def settlement_offer(
    balance_minor: int, terms: PaymentTerms, today: date
) -> SettlementOffer | None:
    if terms.settlement is None or balance_minor <= 0:
        return None
    amount = settlement_floor(balance_minor, terms.settlement.floor_percent)
    if amount >= balance_minor:
        return None
    return SettlementOffer(
        "settlement", amount, today + timedelta(days=terms.settlement.pay_by_days)
    )


def early_discount_offer(
    balance_minor: int, terms: PaymentTerms, today: date, placed_on: date
) -> SettlementOffer | None:
    """The balance less the discount, while the account is within N days of its placement."""
    discount = terms.early_discount
    if discount is None or balance_minor <= 0:
        return None
    pay_by = placed_on + timedelta(days=discount.within_days)
    if today > pay_by:
        return None
    amount = balance_minor - balance_minor * discount.percent // 100
    return SettlementOffer("early_discount", amount, pay_by)


@dataclass(frozen=True, slots=True)
class Offers:
    plans: list[PlanOffer]
    settlement: SettlementOffer | None
    early_discount: SettlementOffer | None

    def settlement_by_id(self, offer_id: str) -> SettlementOffer | None:
        return next(
            (o for o in (self.settlement, self.early_discount) if o and o.offer_id == offer_id),
            None,
        )


def offers(
    balance_minor: int, terms: PaymentTerms, today: date, placed_on: date, *, arranged: bool
) -> Offers:
    """What the terms allow today; nothing while a plan or a settlement is open
    (``arranged``) or nothing is owed."""
    if arranged or balance_minor <= 0:
        return Offers([], None, None)
    return Offers(
        plan_offers(balance_minor, terms, today),
        settlement_offer(balance_minor, terms, today),
        early_discount_offer(balance_minor, terms, today, placed_on),
    )
