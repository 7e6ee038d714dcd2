"""The use case of every channel worker: send an approved step once, report what happened.

``SendApprovals`` handles an ``outreach.approved.<channel>.v1`` topic. It refuses content
whose hash differs from what the gate vetted and destinations suppressed since, expires
approvals past their ``send_by``, reserves the step id so a redelivered approval is never
sent twice, makes one provider call with bounded concurrency, and publishes a
``delivery.updated.v1`` (plus an opt-out signal when the provider reports one).

A provider that cannot take the message now (429, 5xx, network) does not hold the batch: the
approval is parked in the ``RetryQueue`` with a backoff (``domain.retry``), ``run_retries``
takes it when due, on any replica; a step whose retry budget is spent fails (``failed``
with the reason, the approval dead-lettered). A ``CircuitBreaker`` per provider holds
calls while it is down (attempts not spent). With ``Pacing`` a call first reserves its turn
with the provider and its sender (shared by the replicas): a short wait is slept, a long
one parked. No call starts that could end after
``send_by`` (``SendGuard``; its timeout is bounded by the time left), no retry or turn is
parked past it: the step expires (its intent withdrawn) and the scheduler re-plans it.
``PermanentError``: not this channel's approval; ``TransientError`` (flush): a try failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import DeliveryStatus, StepApproved
from dunning_core.runtime.errors import PermanentError, TransientError

from dunning_channels.domain import (
    CIRCUIT_OPEN,
    RETRY_BUDGET_SPENT,
    SUPPRESSED,
    AmbiguousSend,
    CallTimes,
    CircuitBreaker,
    GiveUp,
    ReconcilePolicy,
    Refusal,
    Report,
    RetryPolicy,
    SendGuard,
    SendOutcome,
    Unavailable,
    admission,
    already_sent,
    concluded,
    next_try,
    provider_answered,
    report_for,
    send_keys,
)
from dunning_channels.ports import (
    Clock,
    DeadLetters,
    InFlight,
    Pacing,
    Parked,
    Publisher,
    RetryQueue,
    Sender,
    SendJournal,
    SendRecords,
    SendSteps,
    SignalsApplied,
)
from dunning_channels.service.reconcile import Reconciling
from dunning_channels.service.reports import Reports
from dunning_channels.service.retries import RetryRunner
from dunning_channels.service.steps import StepsOnPorts
from dunning_channels.service.turns import Turns

log = logging.getLogger(__name__)


class SendApprovals(RetryRunner, Reconciling, Turns):
    """The handler of approved steps for one channel, and the runner of their retries."""

    def __init__(
        self,
        *,
        service: str,
        channel: Channel,
        sender: Sender,
        records: SendRecords,
        publisher: Publisher,
        clock: Clock,
        retries: RetryQueue,
        dead_letters: DeadLetters,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        pacing: Pacing | None = None,
        journal: SendJournal | None = None,
        guard: SendGuard | None = None,
        calls: CallTimes | None = None,  # (the guard's allowance follows them)
        inflight: InFlight | None = None,
        reconcile: ReconcilePolicy | None = None,
        steps: SendSteps | None = None,
        signals: SignalsApplied | None = None,
        concurrency: int = 32,
        wall: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        lease_s: float = 120.0,
        call_bound_s: float = 20.0,  # a call never ended (its worker died) stops counting
        pre_call_s: float = 60.0,  # the longest from admission to the call (``_reconcile_at``)
    ) -> None:
        self.service, self.channel = service, channel
        self.sender, self.records, self.publisher = sender, records, publisher
        self.clock, self.retries, self.dead_letters = clock, retries, dead_letters
        self.policy, self.breaker = policy or RetryPolicy(), breaker or CircuitBreaker()
        self.pacing, self.journal, self.signals = pacing, journal, signals
        self.guard, self.calls = guard or SendGuard(), calls or CallTimes()
        self.inflight, self.reconcile = inflight, reconcile or ReconcilePolicy()
        self.steps: SendSteps = steps or StepsOnPorts(self)
        self.reports = Reports(
            service=service, provider=sender.provider, publisher=publisher, clock=clock
        )
        self.wall, self.rand, self.lease_s = wall, rand, lease_s
        self.call_bound_s, self.pre_call_s = call_bound_s, pre_call_s
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: list[asyncio.Task[bool]] = []
        self._acks: list[Awaitable[Any]] = []
        self._retrying: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.sent, self.refused, self.skipped, self.ambiguous = 0, 0, 0, 0
        self.expirations, self.parked, self.paced, self.failed = 0, 0, 0, 0
        self.found, self.resent, self.uncertain = 0, 0, 0  # by reconciliation

    # --- the consumer loop's handler ------------------------------------------------------

    async def handle(self, envelope: Envelope) -> None:
        approval = envelope.data
        if not isinstance(approval, StepApproved):
            raise PermanentError(f"{envelope.type} is not an approval")
        step = approval.step
        if step.channel is not self.channel:
            raise PermanentError(f"step {step.step_id} is for {step.channel}, not {self.channel}")
        refusal = admission(step, suppressed=False)
        late = self.guard.too_late(approval.send_by, self.clock.now())
        if refusal is None and not late:
            first = Parked(envelope, attempts=0, first_attempt_at=self.wall())
            # Reserved and in flight at once: a worker dying before it records is reconciled.
            reconcile_at = self._reconcile_at(before_call=True)
            admitted = await self.steps.admit(first, _keys(approval), reconcile_at)
            if admitted.admitted:
                await self._slots.acquire()
                self._pending.append(asyncio.create_task(self._try(first, self._acks, first=True)))
                return
            if not admitted.suppressed:  # a redelivery: sent, or in flight
                self.skipped += 1
                await self._adopt(envelope, admitted.taken, self._acks)  # pending: the sweeper's
                return
            refusal = Refusal(SUPPRESSED)
        elif refusal is None:  # late, and maybe suppressed too: that is said first
            refusal = admission(step, suppressed=await self._suppressed(approval))
        if refusal is not None or late:
            # A redelivery of a step sent (or in flight) already: its outcome stands, a
            # refusal or expiry now would contradict it. Else the step is left as found.
            if already_sent(reserved := await self.records.reserve(step.step_id)):
                self.skipped += 1
                await self._adopt(envelope, reserved, self._acks)
                return
            await self.records.release(step.step_id)
        if refusal is not None:
            self.refused += 1
            await self.reports.report(
                approval, DeliveryStatus.REFUSED, refusal.reason, envelope, self._acks
            )
            return
        self.expirations += 1
        await self.reports.expire(approval, envelope, self._acks)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        acks, self._acks = self._acks, []
        await asyncio.gather(*acks)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise TransientError(f"{len(errors)} sends failed; first: {errors[0]!r}") from errors[0]

    # --- one try ----------------------------------------------------------------------------

    async def _try(self, item: Parked, acks: list[Awaitable[Any]], *, first: bool = False) -> bool:
        """One provider call for ``item`` (holding a send slot, which it gives back);
        whether it was parked for another."""
        approval, step = item.approval, item.approval.step
        # to_settle: the step leaves the in-flight set (a retry's enters it when armed; one
        # found there is the sweeper's); intended: its intent is out; calling: the call has
        # begun (before it, a failure withdraws the intent)
        called, to_settle, intended, recorded, calling = False, first, False, False, False
        recorded_as: str | None = None  # for the journal
        try:
            if not first:
                if concluded(await self.records.reserve(step.step_id)):
                    return False  # done before, and its lease ran out after: dropped
                if self.inflight is not None and await self.inflight.holds(step.step_id):
                    # A call may be out there: not sent while the sweeper holds it, but kept
                    # (asked again) until it is recorded or the sweeper parks its own retry.
                    await self.retries.park(item, self.wall() + self.reconcile.retry_s)
                    return True
                if await self._suppressed(approval):  # opted out since
                    await self._refuse_suppressed(item, acks)
                    return False
            turn = "go" if item.paced else await self._wait_for_turn(item)
            if turn == "parked":
                return True
            if turn == "late" or self.guard.too_late(approval.send_by, self.clock.now()):
                await self._release_expired(item, acks)
                return False
            if self.journal is not None:  # acknowledged, in flight: a Redis loss gets it back
                await self.journal.intend(item, self._reconcile_at(before_call=True))
                intended = True
            if self.signals is not None:  # a dispute recorded by now: suppressed by the check
                await self.signals.wait()  # (right before it: a STOP meanwhile crosses less)
            if first and self.wall() - item.first_attempt_at > self.pre_call_s:
                to_settle = False  # the sweeper's from now on: it asks, then sends it once
                return False
            # The last word before the call: the clock (a broker slow to take the intent, a
            # paced wait, a journal restore waited for) or a STOP may have moved meanwhile. Not
            # suppressed, the step is in flight (and its destination's owner known) from here to
            # its outcome. The clock is read after the check, which may wait for a restore.
            to_settle = True
            until = self.wall() + self.call_bound_s  # on the wire (``Calls``) until answered
            suppressed = await self.steps.arm(item, _keys(approval), self._reconcile_at(), until)
            if (late := self.guard.too_late(approval.send_by, self.clock.now())) or suppressed:
                if self.journal is not None and not late:  # (an expiry abandons it too)
                    await self.journal.abandon(step.step_id)
                intended = False
                await (self._release_expired if late else self._refuse_suppressed)(item, acks)
                return False
            calling = True
            try:
                outcome = await self._call(approval)
            except AmbiguousSend as exc:
                to_settle = False  # in flight: the provider is asked later
                self.ambiguous += 1  # the reservation stays: it may be out there
                extra = {"step_id": step.step_id, "error": str(exc)}
                log.warning("send outcome unknown; not resent", extra=extra)
                return False
            called = True
            if isinstance(outcome, Unavailable):
                return await self._unavailable(item, outcome, acks)
            report = report_for(outcome)
            keys, recorded_as = _keys(approval), report.record_as
            await self.steps.settle(step.step_id, keys, recorded_as)  # recorded, answered
            to_settle, recorded = False, True
            await self._announce(approval, report, item.envelope, acks)
            return False
        except Exception:
            if intended and not calling and self.journal is not None:
                # Redis failed between the intent and the call: withdraw the intent, or a
                # restore after the Redis loss holds the step as tried (never sent) for good.
                with contextlib.suppress(Exception):  # the broker away too: the intent stays
                    await self.journal.abandon(step.step_id)
                    intended = False
            armed, to_settle = to_settle, False  # a failed release too: left in flight
            if not called and first:
                # Nothing left the building on a first try: free the step so the
                # redelivered batch sends it. (A parked one comes back when its lease ends.)
                await self.records.release(step.step_id)
            to_settle = armed and not called  # sent, not recorded: reconciled
            raise
        finally:
            self._slots.release()
            if to_settle or recorded:  # (the journal told last: a failure there is no loss)
                await self._end(item, acks, recorded_as, in_redis=to_settle, in_journal=intended)

    async def _suppressed(self, approval: StepApproved) -> bool:
        """Whether the destination or the account is suppressed, once the store has back
        what a Redis loss took."""
        if self.journal is not None:
            await self.journal.restore_if_lost()
        return await self.records.any_suppressed(_keys(approval))

    async def _refuse_suppressed(self, item: Parked, acks: list[Awaitable[Any]]) -> None:
        approval = item.envelope.data
        assert isinstance(approval, StepApproved)
        await self.records.record(item.step_id, f"refused:{SUPPRESSED}")
        self.refused += 1
        await self.reports.report(approval, DeliveryStatus.REFUSED, SUPPRESSED, item.envelope, acks)

    async def _release_expired(self, item: Parked, acks: list[Awaitable[Any]]) -> None:
        approval = item.envelope.data
        assert isinstance(approval, StepApproved)
        await self.records.release(item.step_id)  # free for the re-planned approval
        self.expirations += 1
        await self.reports.expire(approval, item.envelope, acks)
        if self.journal is not None:  # nor reserved again by a restore after a Redis loss
            await self.journal.abandon(item.step_id)

    async def _call(self, approval: StepApproved) -> SendOutcome:
        now = self.wall()
        if not self.breaker.allow(now):
            return Unavailable(
                CIRCUIT_OPEN,
                f"{self.sender.provider} is not called while its circuit is open",
                self.breaker.retry_in(now),
            )
        answered = False
        try:
            # Bounded by the time left: a late answer is reconciled, not recorded as sent.
            left = self.guard.wall_left_s(approval.send_by, self.clock.now())
            try:
                outcome = await self.sender.send(approval.account_id, approval.step, left)
            except TransientError as exc:
                outcome = Unavailable("transient", str(exc))
            answered = provider_answered(outcome)
            return outcome
        finally:
            # Every call let through is recorded, whatever happened: a half-open probe
            # that never reported would keep the circuit from ever closing. The call's
            # time since the last check (just before) widens the guard (``CallTimes``).
            self.breaker.record(answered, ended := self.wall())
            self.calls.observe(ended - now, ended)

    async def _unavailable(
        self, item: Parked, outcome: Unavailable, acks: list[Awaitable[Any]]
    ) -> bool:
        # A call the breaker held back is not an attempt; the seconds still count.
        approval = item.envelope.data
        assert isinstance(approval, StepApproved)
        attempts = item.attempts + (0 if outcome.kind == CIRCUIT_OPEN else 1)
        now = self.wall()
        decision = next_try(
            self.policy,
            attempts=attempts,
            elapsed_s=now - item.first_attempt_at,
            unavailable=outcome,
            rand=self.rand(),
        )
        step_id = item.step_id
        if isinstance(decision, GiveUp):
            await self._fail(item, decision.reason, acks)
            return False
        if self._late_at(approval, now + decision.delay_s):
            await self._release_expired(item, acks)  # the retry would come too late
            return False
        delay = round(decision.delay_s, 2)
        extra = {"step_id": step_id, "kind": outcome.kind, "attempts": attempts, "delay_s": delay}
        log.warning("provider unavailable, retry parked", extra=extra)
        error = f"{outcome.kind}: {outcome.message}"
        parked = replace(item, attempts=attempts, last_error=error, paced=False)
        await self.retries.park(parked, now + decision.delay_s)
        self.parked += 1
        return True

    async def _fail(self, item: Parked, reason: str, acks: list[Awaitable[Any]]) -> None:
        approval = item.envelope.data
        assert isinstance(approval, StepApproved)
        self.failed += 1
        log.error("retry budget spent", extra={"step_id": item.step_id, "reason": reason})
        await self.records.record(item.step_id, f"failed:{RETRY_BUDGET_SPENT}")
        await self.reports.report(
            approval, DeliveryStatus.FAILED, RETRY_BUDGET_SPENT, item.envelope, acks, reason
        )
        acks.append(await self.dead_letters.dead_letter(item.envelope, reason))

    async def _announce(
        self, approval: StepApproved, report: Report, cause: Envelope, acks: list[Awaitable[Any]]
    ) -> None:
        """Publish a recorded outcome (and the opt-out it may carry)."""
        step = approval.step
        if report.status is DeliveryStatus.ACCEPTED:
            self.sent += 1
        await self.reports.report(
            approval, report.status, report.error_code, cause, acks, report.detail,
            report.provider_message_id,
        )  # fmt: skip
        if report.opted_out and report.error_code is not None:
            await self.records.suppress(step.destination)
            await self.reports.opted_out(approval, report.error_code, cause, acks)


def _keys(approval: StepApproved) -> tuple[str, ...]:
    return send_keys(approval.account_id, approval.step.destination)
