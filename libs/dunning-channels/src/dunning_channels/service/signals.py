"""Consumer signals into a channel worker's suppressions, however they came.

An opt-out reaches the worker of its own channel through its webhook ingress; a STOPALL,
an unsubscribe from another channel, a dispute or a cease the ledger recorded arrive on
``consumer.signals.v1`` only. ``SuppressOnSignals`` consumes that topic (a consumer
group of its own per channel, from the beginning) and keeps each suppression it sets or
lifts (``domain.suppression``), journalled like the ingress's: an approval already given
to the worker is then refused, not sent.
"""

from __future__ import annotations

import logging

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import ConsumerSignaled

from dunning_channels.domain import suppression_changes
from dunning_channels.ports import Suppressions

log = logging.getLogger(__name__)


class SuppressOnSignals:
    """The handler of ``consumer.signals.v1`` at the worker of ``channel``."""

    def __init__(self, channel: Channel, suppressions: Suppressions) -> None:
        self.channel = channel
        self.suppressions = suppressions
        self.applied = 0

    async def handle(self, envelope: Envelope) -> None:
        signal = envelope.data
        if not isinstance(signal, ConsumerSignaled):
            return  # not ours to judge: the topic's owners dead-letter what is wrong
        for key, suppressed in suppression_changes(signal, self.channel):
            # Awaited one by one, in the log's order: a STOP then a START ends lifted.
            if suppressed:
                await self.suppressions.suppress(key)
            else:
                await self.suppressions.unsuppress(key)
            self.applied += 1

    async def flush(self) -> None:
        return None
