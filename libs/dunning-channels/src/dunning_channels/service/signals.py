"""Consumer signals into a channel worker's suppressions, however they came.

An opt-out reaches the worker of its own channel through its webhook ingress; a STOPALL,
an unsubscribe from another channel, a dispute or a cease the ledger recorded arrive on
``consumer.signals.v1`` only. ``SuppressOnSignals`` consumes that topic (a consumer
group of its own per channel, from the beginning) and keeps each suppression it sets or
lifts (``domain.suppression``), journalled like the ingress's: an approval already given
to the worker is then refused, not sent. The batch is committed (and the signal counts as
applied: ``KafkaSignalsApplied``, the ledger's answer to an operator) only once the calls
its suppressions came too late to stop have ended (``Fence``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import ConsumerSignaled

from dunning_channels.domain import suppression_changes
from dunning_channels.ports import Calls, Suppressions

log = logging.getLogger(__name__)


class Fence:
    """Once a suppression is set, waits for the provider calls it came too late to stop.

    A call is put on the wire by the same step that checks its suppressions (``Calls``),
    so after the suppression those still counted are all that can reach the consumer.
    Acknowledging a STOP or a cease only after them means that nothing is accepted by the
    provider after the consumer or the operator was told it is recorded. A call never
    ended (its worker died mid-call) counts until its bound; ``after_calls`` gives up at
    ``bound_s`` and says so."""

    def __init__(
        self,
        calls: Calls,
        *,
        bound_s: float,
        poll_s: float = 0.01,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.calls, self.bound_s, self.poll_s, self.wall = calls, bound_s, poll_s, wall
        self.waited = 0  # suppressions that found a call on the wire
        self.gave_up = 0

    async def after_calls(self, keys: Sequence[str]) -> bool:
        """Whether every call to ``keys`` on the wire has ended (False: the bound passed)."""
        if not keys:
            return True
        deadline = time.monotonic() + self.bound_s
        if not await self.calls.calling(keys, self.wall()):
            return True
        self.waited += 1
        while await self.calls.calling(keys, self.wall()):
            if time.monotonic() >= deadline:
                self.gave_up += 1
                log.warning("a call was still on the wire when a suppression was acknowledged")
                return False
            await asyncio.sleep(self.poll_s)
        return True


@dataclass(eq=False)
class SuppressOnSignals:
    """The handler of ``consumer.signals.v1`` at the worker of ``channel``."""

    channel: Channel
    suppressions: Suppressions
    fence: Fence | None = None
    applied: int = field(default=0, init=False)
    # suppressed in this batch: the calls they came after
    _set: list[str] = field(default_factory=list, init=False, repr=False)

    async def handle(self, envelope: Envelope) -> None:
        signal = envelope.data
        if not isinstance(signal, ConsumerSignaled):
            return  # not ours to judge: the topic's owners dead-letter what is wrong
        for key, suppressed in suppression_changes(signal, self.channel):
            # Awaited one by one, in the log's order: a STOP then a START ends lifted.
            if suppressed:
                await self.suppressions.suppress(key)
                self._set.append(key)
            else:
                await self.suppressions.unsuppress(key)
            self.applied += 1

    async def flush(self) -> None:
        # Before the batch's commit: once committed, the signal counts as applied.
        keys, self._set = self._set, []
        if self.fence is not None:
            await self.fence.after_calls(keys)
