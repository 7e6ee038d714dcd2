"""What every channel's webhook handler does alike, whatever its provider: keep an opt-out or
an opt-in as a suppression, and publish what a reply means.

A channel's handler (the sms worker's Twilio webhooks, the email worker's SendGrid ones)
adds its provider's verification and parsing on top.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import SignalKind
from dunning_core.contracts.topics import SIGNALS, dlq
from dunning_core.runtime.tracing import new_traceparent

from dunning_channels.domain.replies import InboundMeaning, reply_signals
from dunning_channels.ports import Clock, Publisher, SendRecords
from dunning_channels.service.signals import Fence

log = logging.getLogger(__name__)


@dataclass(eq=False, repr=False, kw_only=True)
class ProviderWebhooks:
    """``fence``: an opt-out is answered once the calls it came too late to stop ended;
    ``rejected`` counts the requests refused as not genuine. A subclass names the
    ``channel`` its replies come on and the ``source`` (service) they are signalled from."""

    channel: ClassVar[Channel]
    source: ClassVar[Literal["sms", "email"]]

    def __init_subclass__(cls, *, channel: Channel, source: Literal["sms", "email"]) -> None:
        super().__init_subclass__()
        cls.channel, cls.source = channel, source

    producer: Publisher
    records: SendRecords
    clock: Clock
    fence: Fence | None = None
    rejected: int = field(default=0, init=False)

    async def _suppress(self, address: str) -> None:
        await self.records.suppress(address)
        if self.fence is not None:
            await self.fence.after_calls([address])

    async def _keep_choice(self, kind: SignalKind, address: str) -> None:
        """An opt-out suppresses ``address``, an opt-in lifts it; any other reply neither."""
        if kind is SignalKind.OPTED_OUT:
            await self._suppress(address)
        elif kind is SignalKind.OPTED_IN:
            await self.records.unsuppress(address)

    async def _publish_reply(
        self,
        meaning: InboundMeaning,
        *,
        address: str,
        text: str,
        signal_id: str,
        details: dict[str, str],
    ) -> int:
        """The reply's signals on the broker (awaited: before the provider hears 200), one
        per account owning ``address``, dead-lettered when none does; how many."""
        owners = await self.records.owners(address)
        if not owners:
            log.warning(
                "inbound reply from an address we know no account of; dead-lettered",
                extra={"channel": self.channel.value},
            )
        signals = reply_signals(
            meaning,
            owners,
            channel=self.channel,
            source=self.source,
            address=address,
            text=text,
            signal_id=signal_id,
            now=self.clock.now(),
            details=details,
        )
        for signal, dead_letter in signals:
            envelope = wrap(signal, self.source, traceparent=new_traceparent())
            await (await self.producer.send(envelope, dlq(SIGNALS) if dead_letter else None))
        return len(signals)
