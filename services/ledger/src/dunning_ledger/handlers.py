"""Events in: decisions, deliveries and signals, each batch recorded in one transaction.

``LedgerEventHandler`` is the ``ConsumerLoop`` handler of group ``ledger``. ``handle``
only checks and buffers; ``flush`` writes the whole batch (communication log, audit
trail, flags, disputes and the ``processed_events`` marks) in one transaction, and the
loop commits offsets only after it. A failed flush hands the batch back for redelivery,
and the marks make the second pass a no-op for whatever the first one did write. The
write shows in each event's trace as a ``ledger.write`` span (see ``tracing.batch_span``).
"""

from __future__ import annotations

import re
from typing import Final

from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import ConsumerSignaled, DeliveryUpdated, StepDecided
from dunning_core.contracts.topics import DECISIONS, DELIVERY, SIGNALS
from dunning_core.runtime.errors import PermanentError
from dunning_core.runtime.tracing import batch_span, outgoing

from dunning_ledger.communications.service import CommunicationService

CONSUMED_TOPICS: Final = (DECISIONS, DELIVERY, SIGNALS)
_ACCEPTED: Final = (StepDecided, DeliveryUpdated, ConsumerSignaled)
_JSON_NUL: Final = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")  # an escaped NUL, not "\\u0000" text


class LedgerEventHandler:
    def __init__(self, service: CommunicationService, group_id: str) -> None:
        self.service = service
        self.group_id = group_id
        self._pending: list[Envelope] = []
        self._traces: list[str | None] = []  # each event's processing span, for the write's
        self.recorded = 0

    async def handle(self, envelope: Envelope) -> None:
        if not isinstance(envelope.data, _ACCEPTED):
            raise PermanentError(f"the ledger does not record {envelope.type} events")
        # PostgreSQL text and jsonb cannot hold NUL: such an event would fail every flush
        # and stall the partition, so it is dead-lettered here instead.
        if _JSON_NUL.search(envelope.data.model_dump_json()):
            raise PermanentError("the event contains a NUL character, which cannot be stored")
        self._pending.append(envelope)
        self._traces.append(outgoing(envelope.traceparent))

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        traces, self._traces = self._traces, []
        if batch:
            with batch_span("ledger.flush", "ledger.write", traces):
                self.recorded += await self.service.record_events(self.group_id, batch)


class ProcessedEventsDedupe:
    """The consumer loop's dedupe, read from ``processed_events`` (the durable marks).

    Marking is part of the flush transaction, so ``mark`` has nothing left to do.
    """

    def __init__(self, service: CommunicationService, group_id: str) -> None:
        self.service = service
        self.group_id = group_id

    async def unseen(self, ids: list[str]) -> set[str]:
        seen = await self.service.seen_events(self.group_id, ids)
        return {i for i in ids if i not in seen}

    async def mark(self, ids: object) -> None:
        return None
