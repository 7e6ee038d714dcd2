"""Pacing of a worker's provider calls: a call reserves its turn with the provider and its
sender (shared by the replicas); a near turn is slept, a far one parked, one that comes
after the step's ``send_by`` not taken. The guard that says "too late" allows each call
what calls have taken lately (``CallTimes``), at least what the settings say."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from dunning_core.contracts.events import StepApproved

from dunning_channels.domain import CallTimes, SendGuard
from dunning_channels.ports import Clock, Pacing, Parked, RetryQueue, Sender


class Turns:
    """What ``SendApprovals`` does before a call when its sends are paced."""

    pacing: Pacing | None
    sender: Sender
    retries: RetryQueue
    _guard: SendGuard
    calls: CallTimes
    clock: Clock
    wall: Callable[[], float]
    paced: int

    @property
    def guard(self) -> SendGuard:
        """The configured guard, its allowance for a call widened to what calls have
        taken lately (a loaded worker's calls take longer than its settings say)."""
        return self._guard.widened(self.calls.allowance(self.wall()))

    @guard.setter
    def guard(self, guard: SendGuard) -> None:
        self._guard = guard

    async def _wait_for_turn(self, item: Parked) -> str:
        """Reserve the item's turn; sleep until it if near, else park it: "go", "parked",
        or "late" when the turn comes too late for its ``send_by``."""
        approval = item.envelope.data
        assert isinstance(approval, StepApproved)
        if self.pacing is None:
            return "go"
        sender_id = self.sender.sender_id(approval.step)
        turn = await self.pacing.turn(self.sender.provider, sender_id, self.wall())
        wait = 0.0 if turn is None else turn - self.wall()
        if turn is not None and wait > self.pacing.inline_wait_s:
            if self._late_at(approval, turn):
                return "late"
            await self.retries.park(replace(item, paced=True), turn)
            self.paced += 1
            return "parked"
        await asyncio.sleep(max(0.0, wait))
        return "go"

    def _late_at(self, approval: StepApproved, wall_at: float) -> bool:
        """Whether a call at the wall instant ``wall_at`` would start too late."""
        ahead = timedelta(seconds=max(0.0, wall_at - self.wall()) * self.guard.speed)
        return self.guard.too_late(approval.send_by, self.clock.now() + ahead)
