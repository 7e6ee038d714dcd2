"""The sweeper: steps reserved and never recorded are settled by asking the provider.

Every step is in flight (``InFlight``) from its reservation until its outcome is
recorded; ``reconcile_due`` takes each one still there ``settle_s`` later (leased, so
one replica asks at a time) and asks the provider (``Sender.find``, see
``domain.reconcile``): found → recorded and reported accepted with the provider's id;
not found → released and parked for one retry (sent once, through every check of a
send); no answer → asked again later, then reported uncertain, never resent blindly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import DeliveryStatus, StepApproved

from dunning_channels.domain import (
    PENDING,
    UNCERTAIN,
    Accepted,
    Found,
    LookupFailed,
    NotFound,
    ReconcilePolicy,
    Report,
    gives_up,
    report_for,
    send_keys,
)
from dunning_channels.ports import (
    InFlight,
    Parked,
    RetryQueue,
    Sender,
    SendJournal,
    SendRecords,
    SendSteps,
)
from dunning_channels.service.reports import Reports
from dunning_channels.service.retries import every

log = logging.getLogger(__name__)

# How far before the first attempt a provider's record may be dated (clocks differ).
_SKEW_S = 300.0


class Reconciling:
    """What ``SendApprovals`` does with the steps it left in flight."""

    inflight: InFlight | None
    journal: SendJournal | None
    reconcile: ReconcilePolicy
    records: SendRecords
    retries: RetryQueue
    sender: Sender
    steps: SendSteps
    reports: Reports
    wall: Callable[[], float]
    pre_call_s: float
    found: int
    resent: int
    uncertain: int
    _stopping: asyncio.Event

    async def _announce(
        self, approval: StepApproved, report: Report, cause: Envelope, acks: list[Awaitable[Any]]
    ) -> None:
        raise NotImplementedError

    async def _conclude(
        self, approval: StepApproved, report: Report, cause: Envelope, acks: list[Awaitable[Any]]
    ) -> None:
        await self.records.record(approval.step.step_id, report.record_as)
        await self._announce(approval, report, cause, acks)

    def _reconcile_at(self, *, before_call: bool = False) -> float:
        """When a step put in flight now is asked of the provider if still there. Before its
        call (admitted, intended, adopted) it may still wait ``pre_call_s`` for its turn,
        the journal and the signals barrier: the sweeper that took it then, found nothing at
        the provider and sent it again raced the waiting send to the provider
        (chaos1796600947: three texts twice, the barrier's round had held the first 20 s)."""
        return self.wall() + self.reconcile.settle_s + (self.pre_call_s if before_call else 0.0)

    async def run_reconciler(self, poll_s: float = 5.0) -> None:
        """Reconcile what falls due, until ``stop_retries``."""
        await every(poll_s, self.reconcile_due, self._stopping, "reconciliation pass failed")

    async def _adopt(
        self, envelope: Envelope, reserved: str | None, acks: list[Awaitable[Any]]
    ) -> None:
        """An approval found its step reserved and not recorded: a send under way, one whose
        worker died before it recorded (its in-flight entry maybe lost with Redis), or an
        earlier approval's awaiting reconciliation. The sweeper takes it with this approval
        (after ``settle_s``): sent with it if never sent, else settled; never skipped for good.
        Found recorded, its outcome is written to the journal again (acknowledged before the
        offset moves): the first write may have been lost with a broker, and a Redis lost
        next would give the step back as one to reconcile, to be sent again."""
        item = Parked(envelope, attempts=0, first_attempt_at=self.wall())
        if reserved == PENDING and self.inflight is not None:
            reconcile_at = self._reconcile_at(before_call=True)
            await self.inflight.park(item, reconcile_at)
            if self.journal is not None:
                # In the journal too, acknowledged, before this approval's offset moves on:
                # the worker that reserved it may have died before it journalled its intent,
                # and a Redis lost next would take the step with it (chaos1796621055: three
                # texts reserved by a worker killed in its broker round, adopted by the
                # other, Redis flushed 40 s later; never sent).
                await self.journal.intend(item, reconcile_at)
        elif reserved not in (None, PENDING) and self.journal is not None:
            acks += [ack] if (ack := await self.journal.settled(item, reserved)) else []

    async def reconcile_due(self) -> int:
        """Reconcile every in-flight step due now; how many were taken."""
        if self.inflight is None:
            return 0
        if self.journal is not None:
            await self.journal.restore_if_lost()  # a Redis that lost them gets them back
        taken = 0
        while (item := await self.inflight.claim(self.wall(), self.reconcile.retry_s)) is not None:
            taken += 1
            try:
                await self._reconcile(item, self.inflight)
            except Exception:  # left leased: asked again when the lease ends
                log.exception("reconciliation failed", extra={"step_id": item.step_id})
        return taken

    async def _end(
        self, item: Parked, acks: list[Awaitable[Any]], outcome: str | None, *,
        in_redis: bool, in_journal: bool,
    ) -> None:  # fmt: skip
        """Take the step out of flight in Redis and, once its intent is out, the journal
        (with its outcome: acknowledged before the approval's offset is committed)."""
        try:
            if in_redis:
                await self.steps.settle(
                    item.step_id,
                    send_keys(item.approval.account_id, item.approval.step.destination),
                )
            journal = self.journal if in_journal else None
            if journal is not None and (ack := await journal.settled(item, outcome)):
                acks.append(ack)
        except Exception:  # found again by the sweeper, recorded: cleared then
            log.warning("in-flight entry not cleared", extra={"step_id": item.step_id})

    async def _out_of_flight(
        self, item: Parked, inflight: InFlight, outcome: str | None = None
    ) -> None:
        await inflight.done(item.step_id)
        # its intent in the journal says so too
        if self.journal is not None and (ack := await self.journal.settled(item, outcome)):
            await ack

    async def _reconcile(self, item: Parked, inflight: InFlight) -> None:
        approval = item.envelope.data
        assert isinstance(approval, StepApproved)
        step = approval.step
        reserved = await self.records.reserve(step.step_id)
        if reserved is not None and reserved != PENDING:
            await self._out_of_flight(item, inflight, reserved)  # recorded after all
            return
        since = item.first_attempt_at - _SKEW_S
        answer = await self.sender.find(approval.account_id, step, since)
        acks: list[Awaitable[Any]] = []
        extra = {"step_id": step.step_id, "answer": type(answer).__name__}
        if isinstance(answer, Found):
            self.found += 1
            report = report_for(Accepted(answer.provider_message_id))
            await self._conclude(approval, report, item.envelope, acks)
            await asyncio.gather(*acks)
            await self._out_of_flight(item, inflight, report.record_as)
            log.warning("send of unknown outcome found at the provider", extra=extra)
        elif isinstance(answer, NotFound):
            self.resent += 1
            await self.records.release(step.step_id)
            # One retry, through every check of a send (send_by, suppressions, pacing).
            await self.retries.park(replace(item, paced=False), self.wall() + 1.0)
            await self._out_of_flight(item, inflight)
            log.warning("send of unknown outcome not at the provider; sent again", extra=extra)
        elif gives_up(self.reconcile, first_attempt_at=item.first_attempt_at, now=self.wall()):
            assert isinstance(answer, LookupFailed)
            self.uncertain += 1
            await self.records.record(step.step_id, UNCERTAIN)
            # Maybe sent: reported accepted (a contact, never re-planned), marked uncertain.
            await self.reports.report(
                approval, DeliveryStatus.ACCEPTED, UNCERTAIN, item.envelope, acks,
                f"outcome unknown; the provider could not be asked: {answer.reason}"[:500],
            )  # fmt: skip
            await asyncio.gather(*acks)
            await self._out_of_flight(item, inflight, UNCERTAIN)
            log.error("send outcome still unknown; reported uncertain", extra=extra)
