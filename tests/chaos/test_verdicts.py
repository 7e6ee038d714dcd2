"""The checker's verdicts on a step's history (no stack: plain records)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from dunning_core.contracts.events import Decision, DeliveryStatus

from tests.chaos.verdicts import (
    awaiting_provider,
    deferred_past,
    queued,
    retrying_at_end,
    scheduler_said,
    why_not_final,
)

END = datetime(2026, 3, 5, 12, tzinfo=UTC)


def plan(at: float) -> tuple[float, str, Any]:
    return (at, "plan", SimpleNamespace())


def decision(
    at: float, kind: Decision, not_before: datetime | None = None
) -> tuple[float, str, Any]:
    return (at, "decision", SimpleNamespace(decision=kind, not_before=not_before))


def status(at: float, kind: DeliveryStatus) -> tuple[float, str, Any]:
    return (at, "status", SimpleNamespace(status=kind))


def test_an_expired_step_planned_and_approved_again_is_not_called_never_re_planned() -> None:
    history = [
        plan(1), decision(2, Decision.ALLOW), status(3, DeliveryStatus.EXPIRED),
        plan(4), decision(5, Decision.ALLOW),
    ]  # fmt: skip
    assert why_not_final(history, sent=[]) == "approved, never sent"


def test_an_expiry_nobody_acted_on_is_never_re_planned() -> None:
    history = [plan(1), decision(2, Decision.ALLOW), status(3, DeliveryStatus.EXPIRED)]
    assert why_not_final(history, sent=[]) == "expired, never re-planned"


def test_a_re_plan_the_gate_never_saw_again() -> None:
    history = [plan(1), decision(2, Decision.DEFER, END), plan(3)]
    assert why_not_final(history, sent=[]) == "re-planned, never decided again"
    assert not deferred_past(history, END)


def test_deferred_past_the_end_only_when_the_deferral_is_the_last_word() -> None:
    later = datetime(2026, 3, 6, tzinfo=UTC)
    assert deferred_past([plan(1), decision(2, Decision.DEFER, later)], END)
    assert not deferred_past([plan(1), decision(2, Decision.DEFER, END)], END)
    assert not deferred_past([plan(1), decision(2, Decision.ALLOW)], END)


def test_a_message_the_provider_still_reports_on_is_awaiting_it_not_lost() -> None:
    assert awaiting_provider([{"channel": "sms", "unreported": 1}])
    assert awaiting_provider([{"unreported": 0}, {"unreported": 2}])
    # Told everything (or given up telling): a final status missing is ours to have lost.
    assert not awaiting_provider([{"channel": "email", "unreported": 0}])
    assert not awaiting_provider([{"channel": "sms"}])  # a sandbox that does not say
    assert not awaiting_provider([])


def test_an_approval_still_retried_against_a_refusing_provider_is_not_lost() -> None:
    history = [plan(1), decision(50, Decision.ALLOW)]
    faulted = {"+15550001111"}
    assert retrying_at_end(history, "+15550001111", faulted, since=40)
    # Approved long before the end: its retries were spent; a missing outcome is a loss.
    assert not retrying_at_end(history, "+15550001111", faulted, since=60)
    # A destination the provider takes: nothing to retry.
    assert not retrying_at_end(history, "+15550002222", faulted, since=40)
    # Expired after the approval: the scheduler's, not the worker's.
    expired = [*history, status(51, DeliveryStatus.EXPIRED)]
    assert not retrying_at_end(expired, "+15550001111", faulted, since=40)


def held(at: float, send_at: datetime) -> tuple[float, str, Any]:
    return (at, "held", SimpleNamespace(send_at=send_at))


def test_a_step_the_scheduler_holds_past_the_end_is_deferred_not_lost() -> None:
    expired = [plan(1), decision(2, Decision.ALLOW), status(3, DeliveryStatus.EXPIRED)]
    later = datetime(2026, 3, 6, tzinfo=UTC)
    assert scheduler_said([*expired, held(4, later)], END) == "held"
    # Held until before the end, and no plan since: judged as it stands (lost).
    overdue = [*expired, held(4, END)]
    assert scheduler_said(overdue, END) is None
    assert why_not_final(overdue, sent=[]) == "held, never re-planned"
    # Planned again after the hold: the hold is no longer the last word.
    assert scheduler_said([*expired, held(4, later), plan(5)], END) is None


def test_a_withdrawn_step_is_the_schedulers_last_word() -> None:
    withdrawn = (4.0, "withdrawn", SimpleNamespace(reason="paused: disputed"))
    history = [plan(1), decision(2, Decision.DEFER, END), withdrawn]
    assert scheduler_said(history, END) == "withdrawn"
    assert scheduler_said([*history[:2]], END) is None


DECISIONS = "run.outreach.decisions.v1"


def test_an_approval_its_worker_had_not_consumed_is_queued_not_lost() -> None:
    approved = [plan(1.0), decision(2.0, Decision.ALLOW)]
    committed = {"sms": {f"{DECISIONS}:3": 120}, "compliance-gate": {}}
    assert queued(approved, "sms", (DECISIONS, 3, 120), committed)
    assert queued(approved, "sms", (DECISIONS, 3, 500), committed)
    # The worker committed past it and sent nothing: judged as before (lost).
    assert not queued(approved, "sms", (DECISIONS, 3, 119), committed)
    # Another channel's worker, or no offsets known for the group: judged as before.
    assert not queued(approved, "email", (DECISIONS, 3, 500), committed)
    assert not queued(approved, "sms", (DECISIONS, 3, 500), {})
    # A partition the group never committed on: nothing of it was handled.
    assert queued(approved, "sms", (DECISIONS, 0, 0), committed)


def test_a_plan_waits_for_the_gate_and_a_deferral_is_not_queued() -> None:
    planned = "run.outreach.planned.v1"
    committed = {"compliance-gate": {f"{planned}:1": 10}, "sms": {}}
    assert queued([plan(1.0)], "sms", (planned, 1, 10), committed)
    assert not queued([plan(1.0)], "sms", (planned, 1, 9), committed)
    deferred = [plan(1.0), decision(2.0, Decision.DEFER)]
    assert not queued(deferred, "sms", (DECISIONS, 1, 99), {"sms": {}, "compliance-gate": {}})
    assert not queued([], "sms", (planned, 1, 10), committed)
    assert not queued([plan(1.0)], "sms", None, committed)
