"""payments.v1 through the use cases (in-memory ports): money messages held until their time,
withdrawn when pointless, published once however often an event comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import Event
from dunning_core.runtime.clock import FixedClock
from dunning_scheduler.domain.case import CaseStatus, StepStatus
from dunning_scheduler.service import Scheduler
from dunning_testkit.money_events import (
    account_settled,
    installment_missed,
    plan_agreed,
    plan_broken,
)
from dunning_testkit.scheduler import (
    NOW,
    MemoryCaseStore,
    RecordingPublisher,
    account_opened,
    payment,
)

SECOND_REMINDER = datetime(2026, 4, 13, 14, 0, tzinfo=UTC)  # 10:00 in New York


def envelope(event: Event) -> Envelope:
    return wrap(event, "test", time=NOW)


@pytest.fixture
async def contacted(scheduler: Scheduler, publisher: RecordingPublisher) -> Scheduler:
    """The scheduler of an account whose first reminder went out (and nothing published)."""
    await scheduler.apply([envelope(account_opened())])
    await scheduler.plan_due(500)  # the friendly reminder, sms and email
    publisher.published.clear()
    return scheduler


async def test_reminders_wait_for_their_time_and_a_paid_installment_has_none(
    contacted: Scheduler, store: MemoryCaseStore, publisher: RecordingPublisher, clock: FixedClock
) -> None:
    await contacted.apply([envelope(plan_agreed())])
    held = [s for s in store.steps.values() if s.status is StepStatus.SCHEDULED]
    assert len(held) == 3
    assert publisher.steps == []
    assert store.status_of("ACC-1") == CaseStatus.PAUSED

    clock.advance(datetime(2026, 3, 13, 14, 0, tzinfo=UTC) - clock.now())
    assert (await contacted.plan_due(500)).steps == 1
    (reminder,) = publisher.steps
    assert "$411.52" in reminder.step.content.body
    assert "March 16, 2026" in reminder.step.content.body

    paid = payment(82_304, plan_id="PLAN-1", installments=[1, 2], at=clock.now())
    await contacted.apply([envelope(paid)])
    assert len(publisher.steps) == 2  # the thank-you, at once
    assert "Thank you" in publisher.steps[1].step.content.body

    clock.advance(SECOND_REMINDER - clock.now())
    assert (await contacted.plan_due(500)).steps == 0  # installment 2 is paid already
    second = next(s for s in store.steps.values() if s.step.send_at == SECOND_REMINDER)
    assert second.status is StepStatus.DROPPED
    assert store.status_of("ACC-1") == CaseStatus.PAUSED  # no ladder step during the plan


async def test_a_redelivered_batch_thanks_once(
    contacted: Scheduler, publisher: RecordingPublisher, clock: FixedClock
) -> None:
    batch = [envelope(payment(100_000, payment_id="PAY-7"))]
    await contacted.apply(batch)
    clock.advance(timedelta(minutes=3))
    result = await contacted.apply(batch)
    assert result.ignored == 1
    assert len(publisher.steps) == 1


async def test_a_settled_account_is_confirmed_and_hears_nothing_more(
    contacted: Scheduler, store: MemoryCaseStore, publisher: RecordingPublisher, clock: FixedClock
) -> None:
    await contacted.apply([envelope(plan_agreed())])
    await contacted.apply(
        [envelope(payment(0, payment_id="PAY-9")), envelope(account_settled(at=NOW))]
    )
    (confirmation,) = publisher.steps
    assert "settled" in confirmation.step.content.body
    assert store.status_of("ACC-1") == CaseStatus.RESOLVED
    for days in (11, 34, 30, 325):
        clock.advance(timedelta(days=days))
        assert (await contacted.plan_due(500)).steps == 0
    assert len(publisher.steps) == 1


async def test_a_follow_up_withdrawn_later_in_the_same_batch_is_not_published(
    contacted: Scheduler, store: MemoryCaseStore, publisher: RecordingPublisher, clock: FixedClock
) -> None:
    """The ledger's pass finds the installment missed and the plan broken at once: no
    "get back on track" beside the resumed escalation."""
    await contacted.apply([envelope(plan_agreed())])
    clock.advance(timedelta(days=17))
    now = clock.now()
    await contacted.apply([envelope(installment_missed(at=now)), envelope(plan_broken(at=now))])
    assert publisher.steps == []
    follow_up = next(s for s in store.steps.values() if s.stage_key == "plan_missed")
    assert follow_up.status is StepStatus.DROPPED
    assert store.status_of("ACC-1") == CaseStatus.ACTIVE
    assert (await contacted.plan_due(500)).steps == 2  # urgency, sms and email


async def test_a_plan_before_its_account_is_followed_once_the_account_comes(
    scheduler: Scheduler, store: MemoryCaseStore, publisher: RecordingPublisher
) -> None:
    await scheduler.apply([envelope(plan_agreed())])
    assert store.steps == {}
    await scheduler.apply([envelope(account_opened())])
    held = [s for s in store.steps.values() if s.status is StepStatus.SCHEDULED]
    assert len(held) == 3
    assert publisher.steps == []
    assert store.status_of("ACC-1") == CaseStatus.PAUSED
