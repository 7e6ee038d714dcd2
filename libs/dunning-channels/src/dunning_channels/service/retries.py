"""The runner of parked retries: takes each approval from the ``RetryQueue`` as it falls
due (on any replica), waits for a send slot, and tries it again (``SendApprovals._try``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dunning_core.runtime.errors import Outage, is_transient
from dunning_core.runtime.metrics import RETRIES

from dunning_channels.ports import Parked, RetryQueue

log = logging.getLogger(__name__)


async def every(
    poll_s: float, one_pass: Callable[[], Awaitable[object]], stopping: asyncio.Event, what: str
) -> None:
    """Run ``one_pass`` every ``poll_s`` until ``stopping`` is set; a failed pass is logged
    (as ``what``) and the next one tried. While Redis or the broker is away (a transient
    error), one line says the outage started, a reminder follows every 30 s and one line
    says it ended: not a traceback every ``poll_s``."""
    outage = Outage(what, log)
    while not stopping.is_set():
        try:
            await one_pass()
            outage.recovered()
        except Exception as exc:
            if is_transient(exc):
                outage.failed(exc)
            else:
                log.exception(what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), poll_s)


class RetryRunner:
    """What ``SendApprovals`` does with its parked approvals."""

    retries: RetryQueue
    wall: Callable[[], float]
    lease_s: float
    _slots: asyncio.Semaphore
    _retrying: set[asyncio.Task[None]]
    _stopping: asyncio.Event

    async def _try(self, item: Parked, acks: list[Awaitable[Any]], *, first: bool = False) -> bool:
        raise NotImplementedError

    async def run_retries(self, poll_s: float = 0.25) -> None:
        """Try parked approvals as they fall due, until ``stop_retries``."""
        await every(poll_s, self.retry_due, self._stopping, "retry pass failed")

    async def stop_retries(self) -> None:
        self._stopping.set()
        await self.drain_retries()

    async def retry_due(self) -> int:
        """Start every retry due now (each waits for a send slot); how many started."""
        started = 0
        while True:
            await self._slots.acquire()
            try:
                item = await self.retries.claim(self.wall(), self.lease_s)
            except BaseException:
                self._slots.release()
                raise
            if item is None:
                self._slots.release()
                return started
            task = asyncio.create_task(self._retry(item))
            self._retrying.add(task)
            task.add_done_callback(self._retrying.discard)
            started += 1

    async def drain_retries(self) -> None:
        """Wait for the retries in flight."""
        while self._retrying:
            await asyncio.gather(*self._retrying, return_exceptions=True)

    async def _retry(self, item: Parked) -> None:
        RETRIES.labels("send", "parked").inc()
        acks: list[Awaitable[Any]] = []
        try:
            parked_again = await self._try(item, acks)
            await asyncio.gather(*acks)
            if not parked_again:
                await self.retries.done(item.step_id)
        except Exception:
            # Left leased: it falls due again when the lease ends.
            log.exception("retry failed", extra={"step_id": item.step_id})
