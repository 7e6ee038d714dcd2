"""Use cases over in-memory ports: planning publishes, events re-plan, batches are atomic."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import (
    Decision,
    DeliveryStatus,
    Event,
    SignalKind,
    StepHeld,
    StepPlanned,
    StepWithdrawn,
)
from dunning_core.runtime.clock import FixedClock
from dunning_scheduler.domain.case import CaseStatus, StepStatus
from dunning_scheduler.service import Scheduler
from dunning_testkit.scheduler import (
    NOW,
    MemoryCaseStore,
    RecordingPublisher,
    account_opened,
    decided,
    delivery,
    payment,
    signal,
)


def envelope(event: Event) -> Envelope:
    return wrap(event, "test", time=NOW)


async def planned_sms(scheduler: Scheduler, publisher: RecordingPublisher) -> StepPlanned:
    """An account opened and its first SMS planned."""
    await scheduler.apply([envelope(account_opened())])
    await scheduler.plan_due(500)
    return publisher.steps[0]


async def allowed_sms(scheduler: Scheduler, publisher: RecordingPublisher) -> StepPlanned:
    """An account opened, its first SMS planned and allowed by the gate."""
    sms = await planned_sms(scheduler, publisher)
    await scheduler.apply([envelope(decided(sms, Decision.ALLOW))])
    return sms


def deferred(sms: StepPlanned, until: datetime) -> Envelope:
    """The gate's deferral of ``sms`` outside calling hours, until ``until``."""
    return envelope(decided(sms, Decision.DEFER, not_before=until, rules=["hours.fdcpa"]))


async def test_account_opened_then_plan_publishes_one_step_per_channel(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore
) -> None:
    await scheduler.apply([envelope(account_opened())])
    result = await scheduler.plan_due(500)
    assert (result.cases, result.steps) == (1, 2)
    steps = publisher.steps
    assert [s.step.channel for s in steps] == [Channel.SMS, Channel.EMAIL]
    assert all(s.step.first_communication for s in steps)
    assert all(s.step.content_hash == s.step.content.content_hash() for s in steps)
    assert all(
        e.traceparent is None or e.traceparent.startswith("00-") for e in publisher.published
    )
    assert {s.step_id for s in store.steps.values()} == {s.step.step_id for s in steps}
    assert (await scheduler.plan_due(500)).steps == 0  # the next step is days away


async def test_the_same_account_opened_twice_makes_one_case_and_one_plan(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore
) -> None:
    await scheduler.apply([envelope(account_opened()), envelope(account_opened())])
    await scheduler.plan_due(500)
    await scheduler.apply([envelope(account_opened())])
    await scheduler.plan_due(500)
    assert len(store.cases) == 1
    assert len(publisher.steps) == 2


async def test_a_deferral_is_held_until_not_before_then_replanned_with_the_same_step_id(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore, clock: FixedClock
) -> None:
    sms = await planned_sms(scheduler, publisher)
    later = NOW + timedelta(hours=15)
    published_before = len(publisher.published)
    await scheduler.apply([deferred(sms, later)])
    # The gate judges a step when it sees it: nothing goes out before not_before.
    assert len(publisher.published) == published_before
    assert store.steps[sms.step.step_id].status == StepStatus.DEFERRED
    await scheduler.plan_due(500)
    assert len(publisher.published) == published_before
    clock.advance(timedelta(hours=15))
    await scheduler.plan_due(500)
    replan = publisher.published[-1]
    assert replan.data.step.step_id == sms.step.step_id  # type: ignore[attr-defined]
    assert replan.data.step.send_at == later  # type: ignore[attr-defined]
    assert replan.id != publisher.published[0].id  # a new fact: new ce_id
    assert store.steps[sms.step.step_id].status == StepStatus.PLANNED
    await scheduler.plan_due(500)
    assert publisher.published[-1] is replan  # released once


async def test_an_expired_approval_is_replanned_at_once_with_the_same_step_id(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore, clock: FixedClock
) -> None:
    sms = await allowed_sms(scheduler, publisher)
    clock.advance(timedelta(minutes=20))
    expired = delivery(sms, DeliveryStatus.EXPIRED, error_code="send_by_passed", at=clock.now())
    published_before = len(publisher.published)

    result = await scheduler.apply([envelope(expired)])

    assert result.replans == 1
    assert len(publisher.published) == published_before + 1
    replan = publisher.published[-1].data
    assert isinstance(replan, StepPlanned)
    assert replan.step.step_id == sms.step.step_id
    assert replan.step.send_at == clock.now()
    record = store.steps[sms.step.step_id]
    assert record.status == StepStatus.PLANNED  # waits for the gate again, not FAILED
    assert record.delivery_status == "expired"
    case = store.cases[sms.account_id]
    assert case.soft_failures == {}
    assert case.bad_addresses == frozenset()
    await scheduler.apply([envelope(expired)])  # redelivered: re-planned once
    assert len(publisher.published) == published_before + 1


async def test_an_approval_expired_at_night_is_held_for_the_morning_and_said_so(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore, clock: FixedClock
) -> None:
    sms = await allowed_sms(scheduler, publisher)
    clock.advance(timedelta(hours=11))  # 04:00 UTC: 23:00 in New York, 20:00 in LA
    expired = delivery(sms, DeliveryStatus.EXPIRED, error_code="send_by_passed", at=clock.now())
    published_before = len(publisher.published)

    result = await scheduler.apply([envelope(expired)])
    await scheduler.apply([envelope(expired)])  # redelivered: said once (the same ce_id)

    assert result.replans == 0  # nothing due now
    said = publisher.published[published_before:]
    assert len({e.id for e in said}) == 1
    held = said[0].data
    assert isinstance(held, StepHeld)
    assert (held.step_id, held.reason, held.held_at) == (sms.step.step_id, "expired", clock.now())
    assert held.send_at > clock.now()
    assert store.steps[sms.step.step_id].step.send_at == held.send_at
    clock.advance(held.send_at - clock.now())
    await scheduler.plan_due(500)
    replan = publisher.published[-1].data
    assert isinstance(replan, StepPlanned)  # the plan it announced, at the time it said
    assert (replan.step.step_id, replan.step.send_at) == (sms.step.step_id, held.send_at)


async def test_an_expiry_of_a_step_no_longer_wanted_withdraws_it(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore, clock: FixedClock
) -> None:
    sms = await allowed_sms(scheduler, publisher)
    await scheduler.apply([envelope(signal(SignalKind.DISPUTED))])
    published_before = len(publisher.published)
    expired = delivery(sms, DeliveryStatus.EXPIRED, error_code="send_by_passed", at=clock.now())

    await scheduler.apply([envelope(expired)])

    [withdrawal] = [e.data for e in publisher.published[published_before:]]
    assert isinstance(withdrawal, StepWithdrawn)
    assert (withdrawal.step_id, withdrawal.reason) == (sms.step.step_id, "paused: disputed")
    assert store.steps[sms.step.step_id].status == StepStatus.DROPPED


async def test_a_held_deferral_is_dropped_when_the_case_paused_meanwhile(
    scheduler: Scheduler, publisher: RecordingPublisher, store: MemoryCaseStore, clock: FixedClock
) -> None:
    sms = await planned_sms(scheduler, publisher)
    later = NOW + timedelta(hours=2)
    await scheduler.apply([deferred(sms, later)])
    await scheduler.apply([envelope(signal(SignalKind.DISPUTED))])
    published = len(publisher.published)
    clock.advance(timedelta(hours=3))
    await scheduler.plan_due(500)
    # Not planned again: withdrawn, and said so (the gate had seen it: others follow it).
    [withdrawal] = [e.data for e in publisher.published[published:]]
    assert isinstance(withdrawal, StepWithdrawn)
    assert (withdrawal.step_id, withdrawal.reason) == (sms.step.step_id, "paused: disputed")
    assert store.steps[sms.step.step_id].status == StepStatus.DROPPED
    await scheduler.plan_due(500)  # said once
    assert len(publisher.published) == published + 1


async def test_a_failed_publish_commits_nothing_and_the_retry_has_the_same_ce_ids(
    scheduler: Scheduler,
    publisher: RecordingPublisher,
    store: MemoryCaseStore,
    clock: FixedClock,
) -> None:
    await scheduler.apply([envelope(account_opened())])
    publisher.fail_next = True
    with pytest.raises(ConnectionError):
        await scheduler.plan_due(500)
    assert store.cases["ACC-1"].steps_planned == 0
    assert store.steps == {}
    clock.advance(timedelta(seconds=30))
    await scheduler.plan_due(500)
    # A publish that did reach the broker before the failed commit is therefore a duplicate.
    first_try_ids = {e.id for e in publisher.published}
    assert len(first_try_ids) == 2
    assert all(s.step.send_at == NOW for s in publisher.steps)


async def test_payments_and_signals_change_the_case(
    scheduler: Scheduler, store: MemoryCaseStore
) -> None:
    await scheduler.apply([envelope(account_opened())])
    await scheduler.apply([envelope(signal(SignalKind.DISPUTED))])
    assert store.status_of("ACC-1") == CaseStatus.PAUSED
    await scheduler.apply([envelope(signal(SignalKind.DISPUTE_VERIFIED))])
    assert store.status_of("ACC-1") == CaseStatus.ACTIVE
    await scheduler.apply([envelope(payment(0))])
    assert store.status_of("ACC-1") == CaseStatus.RESOLVED
    assert (await scheduler.plan_due(500)).steps == 0


async def test_a_promise_to_pay_resumes_when_its_date_passes(
    scheduler: Scheduler, store: MemoryCaseStore, clock: FixedClock
) -> None:
    await scheduler.apply([envelope(account_opened())])
    await scheduler.apply(
        [envelope(signal(SignalKind.PROMISED_TO_PAY, details={"date": "2026-03-05"}))]
    )
    assert (await scheduler.plan_due(500)).steps == 0
    clock.advance(timedelta(days=4))
    result = await scheduler.plan_due(500)
    assert (result.resumed, result.steps) == (1, 2)  # resumed and planned in the same tick
    assert store.status_of("ACC-1") == CaseStatus.ACTIVE


async def test_an_event_the_domain_cannot_apply_is_rejected_not_blocking_the_batch(
    scheduler: Scheduler, store: MemoryCaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dunning_scheduler.domain import reactions

    def broken(*_: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(reactions, "on_payment", broken)
    result = await scheduler.apply([envelope(payment(0)), envelope(account_opened())])
    assert len(result.rejected) == 1
    assert "boom" in result.rejected[0].error
    assert "ACC-1" in store.cases


async def test_decisions_for_unknown_steps_are_ignored(scheduler: Scheduler) -> None:
    from dunning_core.contracts.events import StepPlanned
    from dunning_testkit.scheduler import RecordingPublisher as _P

    other = Scheduler(
        MemoryCaseStore(), _P(), scheduler.renderer, scheduler.policy, scheduler.clock
    )
    await other.apply([envelope(account_opened())])
    await other.plan_due(10)
    planned = other.publisher.steps[0]  # type: ignore[attr-defined]
    assert isinstance(planned, StepPlanned)
    result = await scheduler.apply([envelope(decided(planned, Decision.ALLOW))])
    assert result.ignored == 1
