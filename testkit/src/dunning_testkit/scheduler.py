"""In-memory versions of the scheduler's own ports, and builders of valid events, for tests.

``MemoryCaseStore`` keeps the transaction semantics that matter: a unit of work that
raises leaves the store as it was. ``RecordingPublisher`` keeps what would have gone to
Kafka, with the envelope each event would travel in.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from dunning_core.contracts import events as ev
from dunning_core.contracts.common import Channel, MessageContent, Money
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_scheduler.adapters.rendering import Identity, Renderer
from dunning_scheduler.domain import holds, reactions
from dunning_scheduler.domain.case import Case, CaseStatus, StepRecord, StepStatus
from dunning_scheduler.domain.planning import StepDraft, plan_due
from dunning_scheduler.policy.loader import default_policy
from dunning_scheduler.policy.model import EscalationPolicy
from dunning_scheduler.ports import Said
from dunning_scheduler.service import outreach_step, step_record

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles, 12:00 in New York

IDENTITY = Identity(
    collector_name="Acme Recovery Services",
    collector_phone="1-800-555-0199",
    payments_url="https://pay.example.com/accounts",
    unsubscribe_url="https://collections.example.com/unsubscribe",
    unsubscribe_mailto="unsubscribe@collections.example.com",
    unsubscribe_secret="test-secret",
)


# --- fakes of our ports --------------------------------------------------------------------


class MemoryTransaction:
    def __init__(self, cases: dict[str, Case], steps: dict[str, StepRecord]) -> None:
        self.cases = cases
        self.steps = steps

    async def lock_due(self, now: datetime, limit: int) -> list[Case]:
        due = [c for c in self.cases.values() if c.is_due(now)]
        due.sort(key=lambda c: (-c.priority, c.next_step_at or now))
        return due[:limit]

    async def lock_promises_due(self, now: datetime, limit: int) -> list[Case]:
        return [
            c for c in self.cases.values() if c.promise_until is not None and c.promise_until <= now
        ][:limit]

    async def lock_deferred_due(self, now: datetime, limit: int) -> list[StepRecord]:
        due = [
            r
            for r in self.steps.values()
            if r.status in (StepStatus.DEFERRED, StepStatus.SCHEDULED) and r.step.send_at <= now
        ]
        return sorted(due, key=lambda r: r.step.send_at)[:limit]

    async def lock_cases(self, account_ids: Sequence[str]) -> dict[str, Case]:
        return {a: self.cases[a] for a in account_ids if a in self.cases}

    async def load_steps(self, step_ids: Iterable[str]) -> dict[str, StepRecord]:
        return {s: self.steps[s] for s in step_ids if s in self.steps}

    async def save_cases(self, cases: Iterable[Case]) -> None:
        for case in cases:
            self.cases[case.account_id] = case

    async def save_progress(self, cases: Iterable[Case]) -> None:
        await self.save_cases(cases)

    async def save_steps(self, steps: Iterable[StepRecord]) -> None:
        for record in steps:
            self.steps[record.step_id] = record


class MemoryCaseStore:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.steps: dict[str, StepRecord] = {}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        tx = MemoryTransaction(copy.copy(self.cases), copy.copy(self.steps))
        yield tx
        self.cases, self.steps = tx.cases, tx.steps  # committed only without an error

    async def get_case(self, account_id: str) -> Case | None:
        return self.cases.get(account_id)

    async def steps_of(self, account_id: str, limit: int = 50) -> list[StepRecord]:
        mine = [s for s in self.steps.values() if s.account_id == account_id]
        return sorted(mine, key=lambda s: s.planned_at, reverse=True)[:limit]

    async def stats(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for case in self.cases.values():
            by_status[case.status.value] = by_status.get(case.status.value, 0) + 1
        return {"cases_by_status": by_status}

    def status_of(self, account_id: str) -> CaseStatus:
        return self.cases[account_id].status


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.fail_next = False

    async def publish(self, planned: Sequence[Said]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker unavailable (test)")
        for event, traceparent in planned:
            at = holds.said_at(event)
            self.published.append(wrap(event, "scheduler", time=at, traceparent=traceparent))

    @property
    def steps(self) -> list[ev.StepPlanned]:
        return [e.data for e in self.published if isinstance(e.data, ev.StepPlanned)]


# --- events ----------------------------------------------------------------------------------


def consumer(
    state: str = "NY",
    locale: str = "en_US",
    *,
    phone: str | None = "+12125550100",
    email: str | None = "ana.garcia@example.com",
) -> ev.Consumer:
    return ev.Consumer(
        full_name="Ana Garcia",
        locale=locale,
        state=state,
        phones=(ev.PhoneContact(number=phone),) if phone else (),
        emails=(ev.EmailContact(address=email),) if email else (),
    )


def debt(
    *,
    balance_minor: int = 123_456,
    currency: str = "USD",
    legal: bool = False,
    limitation: date | None = date(2030, 1, 1),
    licence: str | None = None,
    collector_type: str = "third_party",
) -> ev.Debt:
    return ev.Debt.model_validate(
        {
            "debt_id": "DEBT-1",
            "creditor": "Acme Bank",
            "balance": {"amount_minor": balance_minor, "currency": currency},
            "due_date": "2026-01-15",
            "delinquent_since": "2026-02-01",
            "legal_action_authorized": legal,
            "limitation_date": limitation.isoformat() if limitation else None,
            "validation_notice_sent_at": "2026-01-20T15:00:00+00:00",
            "ca_license_number": licence,
            "collector_type": collector_type,
        }
    )


def account_opened(
    account_id: str = "ACC-1",
    *,
    revision: int = 1,
    consumer_: ev.Consumer | None = None,
    debt_: ev.Debt | None = None,
    at: datetime = NOW,
) -> ev.AccountOpened:
    return ev.AccountOpened(
        account_id=account_id,
        revision=revision,
        consumer=consumer_ or consumer(),
        debt=debt_ or debt(),
        opened_at=at,
    )


# What a decision says again of the step it is about, as the gate copies it.
_DECISION_REPEATS = {
    "step_id",
    "debt_id",
    "stage",
    "channel",
    "attempt",
    "destination",
    "content_hash",
}


def decided(
    planned: ev.StepPlanned,
    decision: ev.Decision,
    *,
    not_before: datetime | None = None,
    rules: Sequence[str] = (),
    at: datetime = NOW,
) -> ev.StepDecided:
    step = planned.step
    action = "defer" if decision == ev.Decision.DEFER else "block"
    return ev.StepDecided(
        **step.model_dump(include=_DECISION_REPEATS),
        account_id=planned.account_id,
        planned_event_id=planned.default_event_id(),
        decision=decision,
        not_before=not_before,
        findings=tuple(
            ev.RuleFinding(rule_id=r, action=action, explanation="test", not_before=not_before)
            for r in rules
        ),
        policy_version="test",
        decided_at=at,
    )


def delivery(
    planned: ev.StepPlanned,
    status: ev.DeliveryStatus,
    *,
    error_code: str | None = None,
    at: datetime = NOW,
) -> ev.DeliveryUpdated:
    step = planned.step
    return ev.DeliveryUpdated(
        account_id=planned.account_id,
        step_id=step.step_id,
        channel=step.channel,
        provider="twilio" if step.channel == Channel.SMS else "sendgrid",
        provider_message_id=f"msg-{step.step_id[-8:]}",
        status=status,
        error_code=error_code,
        occurred_at=at,
    )


def signal(
    kind: ev.SignalKind,
    account_id: str = "ACC-1",
    *,
    channel: Channel | None = None,
    details: dict[str, str] | None = None,
    signal_id: str | None = None,
    at: datetime = NOW,
) -> ev.ConsumerSignaled:
    return ev.ConsumerSignaled(
        account_id=account_id,
        signal_id=signal_id or f"sig-{kind.value}",
        kind=kind,
        channel=channel,
        source="sms" if channel == Channel.SMS else "operator",
        occurred_at=at,
        details=details or {},
    )


def payment(
    remaining_minor: int,
    account_id: str = "ACC-1",
    *,
    amount_minor: int = 10_000,
    payment_id: str = "PAY-1",
    at: datetime = NOW,
    plan_id: str | None = None,
    installments: Sequence[int] = (),
) -> ev.PaymentReceived:
    return ev.PaymentReceived(
        account_id=account_id,
        payment_id=payment_id,
        debt_id="DEBT-1",
        amount=Money(amount_minor=amount_minor),
        remaining_balance=Money(amount_minor=remaining_minor),
        received_at=at,
        plan_id=plan_id,
        installments=list(installments),
    )


def planned_case() -> tuple[Case, list[StepRecord], list[ev.StepPlanned]]:
    """A case (default policy) whose friendly reminder went out on sms and email, and its
    steps: the starting point of the reaction tests."""
    policy = default_policy()
    case = reactions.on_account(None, account_opened(), policy, NOW)
    assert case is not None
    planning = plan_due(case, policy, NOW)
    renderer = Renderer(IDENTITY)
    records, events = [], []
    for draft in planning.drafts:
        step = outreach_step(draft, renderer, case)
        records.append(step_record(case, draft, step, NOW))
        events.append(ev.StepPlanned(account_id="ACC-1", step=step, planned_at=NOW))
    return planning.case, records, events


def rendered_ladder(
    case: Case, policy: EscalationPolicy, renderer: Renderer
) -> list[tuple[StepDraft, MessageContent]]:
    """Every step the case's ladder plans, rung after rung as each one's instant comes (the
    consumer counted as contacted after the first), with the message ``renderer`` writes."""
    rendered = []
    while case.next_step_at is not None:
        planning = plan_due(case, policy, case.next_step_at)
        assert case.consumer is not None
        assert case.debt is not None
        rendered += [(d, renderer.render(d, case.consumer, case.debt)) for d in planning.drafts]
        case = replace(planning.case, contacted=True)
    return rendered
