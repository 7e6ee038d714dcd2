"""``SendRecords`` in Redis whose suppressions are journalled first (``KafkaSendJournal``):
a Redis that loses them gets them back."""

from __future__ import annotations

from collections.abc import Sequence

from dunning_channels.adapters.kafka_journal import KafkaSendJournal
from dunning_channels.ports import SendRecords


class JournaledSendRecords:
    """``SendRecords`` in Redis whose suppressions are journalled first."""

    def __init__(self, records: SendRecords, journal: KafkaSendJournal) -> None:
        self.records = records
        self.journal = journal

    async def reserve(self, step_id: str) -> str | None:
        return await self.records.reserve(step_id)

    async def record(self, step_id: str, provider_message_id: str) -> None:
        await self.records.record(step_id, provider_message_id)

    async def release(self, step_id: str) -> None:
        await self.records.release(step_id)

    async def remember_owner(self, destination: str, account_id: str) -> None:
        await self.records.remember_owner(destination, account_id)

    async def owners(self, destination: str) -> set[str]:
        return await self.records.owners(destination)

    async def suppress(self, destination: str) -> None:
        await self.journal.suppression(destination, True)
        await self.records.suppress(destination)

    async def unsuppress(self, destination: str) -> None:
        await self.journal.suppression(destination, False)
        await self.records.unsuppress(destination)

    async def is_suppressed(self, destination: str) -> bool:
        return await self.records.is_suppressed(destination)

    async def any_suppressed(self, keys: Sequence[str]) -> bool:
        return await self.records.any_suppressed(keys)

    async def begin_call(self, step_id: str, keys: Sequence[str], until: float) -> None:
        await self.records.begin_call(step_id, keys, until)

    async def end_call(self, step_id: str, keys: Sequence[str]) -> None:
        await self.records.end_call(step_id, keys)

    async def calling(self, keys: Sequence[str], now: float) -> int:
        return await self.records.calling(keys, now)
