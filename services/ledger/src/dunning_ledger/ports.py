"""What the ledger's use cases and relay need from the outside, as small protocols."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from dunning_core.runtime.clock import Clock as Clock


class RawPublisher(Protocol):
    """Sends an already-encoded record; the future resolves when the broker has it.

    ``dunning_core.runtime.kafka.EventProducer`` is the production implementation.
    """

    async def send_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...
