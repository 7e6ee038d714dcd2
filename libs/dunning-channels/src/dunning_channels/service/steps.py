"""``SendSteps`` made of the separate ports, one call after the other.

What a worker uses when it is given no store that makes each step at once (the tests'
in-memory fakes, a store without scripts). It reads the worker's ports at each call, so a
port swapped on the worker is the one used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dunning_channels.ports import Admission, InFlight, Parked, SendJournal, SendRecords


class _Ports(Protocol):
    records: SendRecords
    inflight: InFlight | None
    journal: SendJournal | None


class StepsOnPorts:
    def __init__(self, ports: _Ports) -> None:
        self.ports = ports

    async def _suppressed(self, keys: Sequence[str]) -> bool:
        if self.ports.journal is not None:
            await self.ports.journal.restore_if_lost()
        return await self.ports.records.any_suppressed(keys)

    async def admit(self, item: Parked, keys: Sequence[str], reconcile_at: float) -> Admission:
        if await self._suppressed(keys):
            return Admission(suppressed=True)
        records, inflight = self.ports.records, self.ports.inflight
        taken = await records.reserve(item.step_id)
        if taken is not None:
            return Admission(taken=taken)
        try:
            if inflight is not None:
                await inflight.park(item, reconcile_at)
        except Exception:
            await records.release(item.step_id)
            raise
        return Admission()

    async def arm(
        self, item: Parked, keys: Sequence[str], reconcile_at: float, call_until: float
    ) -> bool:
        approval, records = item.approval, self.ports.records
        await records.remember_owner(approval.step.destination, approval.account_id)
        # Begun before the check: a suppression set in between sees the call, and waits.
        await records.begin_call(item.step_id, keys, call_until)
        if await self._suppressed(keys):
            await records.end_call(item.step_id, keys)
            return True
        if self.ports.inflight is not None:
            await self.ports.inflight.park(item, reconcile_at)
        return False

    async def settle(self, step_id: str, keys: Sequence[str], record_as: str | None = None) -> None:
        if record_as is not None:
            await self.ports.records.record(step_id, record_as)
        await self.ports.records.end_call(step_id, keys)
        if self.ports.inflight is not None:
            await self.ports.inflight.done(step_id)
