"""The state of one account's escalation (a case) and of the steps planned for it.

A case's status is derived, never stored independently: resolved beats paused (any pause
reason), paused beats exhausted (no stage left), and the rest is active. Keeping the
reasons as a set lets a dispute and a promise to pay overlap without one resuming the
other's pause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import Consumer, Debt, OutreachStep
from dunning_core.contracts.payments import PlanAgreed, PromiseMade


class CaseStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"


class PauseReason(StrEnum):
    """Why a case is paused; the first in this order is the one reported."""

    DECEASED = "deceased"
    BANKRUPTCY_FILED = "bankruptcy_filed"
    ATTORNEY_REPRESENTED = "attorney_represented"
    CEASE_REQUESTED = "cease_requested"
    DISPUTED = "disputed"
    OPERATOR = "operator"  # an operator paused outreach (until resumed)
    PLAN = "plan"
    PROMISED_TO_PAY = "promised_to_pay"
    NO_CHANNEL = "no_channel"


_REASON_ORDER = {reason: rank for rank, reason in enumerate(PauseReason)}


class StepStatus(StrEnum):
    PLANNED = "planned"  # published, not yet vetted
    ALLOWED = "allowed"
    DEFERRED = "deferred"  # re-planned for the gate's not_before
    BLOCKED = "blocked"
    DROPPED = "dropped"  # a deferral that came when the case was paused or had moved on
    SCHEDULED = "scheduled"  # a money message held until its send time (never published yet)
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


# Pauses that stop the ladder but not the plan's and promise's own messages.
MONEY_PAUSES = frozenset({PauseReason.PLAN, PauseReason.PROMISED_TO_PAY, PauseReason.NO_CHANNEL})
SEEN_KEPT = 64  # money events remembered per case (redelivery comes within a batch or two)
SETTLED = "settled:"  # the purpose of a settlement's confirmation: the one sent when resolved


@dataclass(frozen=True, slots=True)
class MoneyState:
    """What the scheduler follows of an account's money (payments.v1).

    ``steps`` are the money messages still wanted, as (step id, purpose) pairs; a purpose
    names what the message is about (``plan:<id>:<seq>``, ``promise:<id>``, ...), so the
    end of a plan or a payment can withdraw the ones it makes pointless. ``seen`` are the
    ``ce_id`` of the money events applied lately: a redelivered event changes nothing.
    ``pending`` are a plan or promise that came before the account's snapshot: their
    reminders are planned when it arrives (nothing can be addressed before).
    """

    plan_id: str | None = None
    promise_id: str | None = None
    steps: tuple[tuple[str, str], ...] = ()
    seen: tuple[str, ...] = ()
    pending: tuple[PlanAgreed | PromiseMade, ...] = ()

    def purpose_of(self, step_id: str) -> str | None:
        return next((purpose for step, purpose in self.steps if step == step_id), None)


@dataclass(frozen=True, slots=True)
class Case:
    """One account's escalation; ``consumer``/``debt`` are the last snapshot from the ledger.

    A case may exist before its account snapshot (an opt-out that overtook the account on
    another topic): it is then never due until the snapshot arrives.
    """

    account_id: str
    revision: int = 0
    consumer: Consumer | None = None
    debt: Debt | None = None
    policy: str = "default"
    stage_index: int = 0
    attempt: int = 1
    next_step_at: datetime | None = None
    resolved: bool = False
    exhausted: bool = False
    pause_reasons: frozenset[PauseReason] = frozenset()
    promise_until: datetime | None = None
    opted_out_channels: frozenset[Channel] = frozenset()
    bad_addresses: frozenset[str] = frozenset()
    # address -> ids of distinct steps that failed softly there since the last success
    soft_failures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    contacted: bool = False
    last_step_ids: tuple[str, ...] = ()
    last_planned_at: datetime | None = None
    steps_planned: int = 0
    priority: float = 0.0
    last_payment_id: str | None = None
    money: MoneyState = MoneyState()
    note: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def status(self) -> CaseStatus:
        if self.resolved:
            return CaseStatus.RESOLVED
        if self.pause_reasons:
            return CaseStatus.PAUSED
        if self.exhausted:
            return CaseStatus.EXHAUSTED
        return CaseStatus.ACTIVE

    @property
    def paused_reason(self) -> PauseReason | None:
        if not self.pause_reasons:
            return None
        return min(self.pause_reasons, key=_REASON_ORDER.__getitem__)

    @property
    def debt_id(self) -> str | None:
        return self.debt.debt_id if self.debt is not None else None

    def is_due(self, now: datetime) -> bool:
        return (
            self.status == CaseStatus.ACTIVE
            and self.debt is not None
            and self.next_step_at is not None
            and self.next_step_at <= now
        )


def still_wanted(case: Case, step_id: str) -> bool:
    """Whether a step held back (deferred, scheduled, expired) should still go out.

    A ladder step: the case is neither paused nor resolved and has not moved past it. A
    money message: it has not been withdrawn, the case is not resolved (but a settlement's
    confirmation goes to a resolved case), and no pause beyond the plan's or promise's own
    stands.
    """
    purpose = case.money.purpose_of(step_id)
    if purpose is not None:
        if case.resolved and not purpose.startswith(SETTLED):
            return False
        return not (case.pause_reasons - MONEY_PAUSES)
    return not case.resolved and not case.pause_reasons and step_id in case.last_step_ids


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A planned step as the scheduler remembers it: what was published and what became of it."""

    account_id: str
    stage_key: str
    step: OutreachStep
    planned_at: datetime
    gap_after: timedelta | None = None  # to the case's next step, kept when deferred
    status: StepStatus = StepStatus.PLANNED
    rule_ids: tuple[str, ...] = ()
    delivery_status: str | None = None
    replans: int = 0

    @property
    def step_id(self) -> str:
        return self.step.step_id
