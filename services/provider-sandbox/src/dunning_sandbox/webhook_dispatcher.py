"""Background delivery of webhooks (status callbacks, inbound messages, event batches).

Deliveries wait on timers until they are due, then a fixed pool of worker tasks POSTs
them through one shared `aiohttp.ClientSession`. A connection error, a timeout, a 429 or a
5xx is retried with capped exponential backoff (the receiver may not be up yet); any
other answer ends the delivery. `reset()` abandons everything not yet in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field
from urllib.parse import urlsplit

import aiohttp

_log = logging.getLogger(__name__)

# Builds (body, headers) for one attempt, so signatures carrying a timestamp stay fresh.
RequestBuilder = Callable[[], tuple[bytes, dict[str, str]]]


def is_allowed_callback_url(url: str, extra_hosts: Iterable[str] = ()) -> bool:
    """True for http(s) URLs on a loopback host (or one of `extra_hosts`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host in extra_hosts:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class Delivery:
    """One webhook to deliver, and what to do once it is done (delivered or given up)."""

    url: str
    build: RequestBuilder
    on_done: Callable[[bool], None] | None = None
    attempts: int = 0
    generation: int = field(default=0, repr=False)


@dataclass(slots=True)
class DispatchStats:
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def to_json(self, pending: int) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "retried": self.retried,
            "failed": self.failed,
            "pending": pending,
        }


@dataclass(eq=False)
class WebhookDispatcher:
    """Delivers webhooks in the background, with retries; owns no HTTP session."""

    session: aiohttp.ClientSession
    _: KW_ONLY
    concurrency: int
    max_attempts: int
    retry_base_s: float
    retry_max_s: float
    _queue: asyncio.Queue[Delivery] = field(init=False, default_factory=asyncio.Queue)
    _workers: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _timers: set[asyncio.TimerHandle] = field(init=False, default_factory=set)
    _pending: int = field(init=False, default=0)
    _idle: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _generation: int = field(init=False, default=0)
    stats: DispatchStats = field(init=False, default_factory=DispatchStats)

    def __post_init__(self) -> None:
        self._idle.set()

    @property
    def pending(self) -> int:
        return self._pending

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(), name=f"webhook-worker-{i}")
            for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []

    def submit(self, delivery: Delivery, delay_s: float = 0.0) -> None:
        delivery.generation = self._generation
        self._pending += 1
        self._idle.clear()
        self._schedule(delivery, delay_s)

    def reset(self) -> None:
        """Forget every delivery not yet in flight (waiting timers and the queue)."""
        self._generation += 1
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._pending = 0
        self._idle.set()
        self.stats = DispatchStats()

    async def drain(self, timeout_s: float) -> bool:
        """Wait until nothing is pending; False if `timeout_s` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def _schedule(self, delivery: Delivery, delay_s: float) -> None:
        if delay_s <= 0:
            self._queue.put_nowait(delivery)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def due() -> None:
            if handle is not None:
                self._timers.discard(handle)
            self._queue.put_nowait(delivery)

        handle = loop.call_later(delay_s, due)
        self._timers.add(handle)

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            if delivery.generation != self._generation:
                continue
            if await self._attempt(delivery):
                self.stats.retried += 1
                backoff = min(self.retry_max_s, self.retry_base_s * 2 ** (delivery.attempts - 1))
                self._schedule(delivery, backoff * random.uniform(0.5, 1.0))

    async def _attempt(self, delivery: Delivery) -> bool:
        """POST once; True when it should be retried, otherwise the delivery is finished."""
        delivery.attempts += 1
        try:
            body, headers = delivery.build()
        except Exception:  # a bug in one builder must not stop the worker
            _log.exception("building a webhook request failed")
            self._finish(delivery, ok=False)
            return False
        status: int | None
        try:
            async with self.session.post(delivery.url, data=body, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = None
            _log.debug("webhook attempt %d failed: %s", delivery.attempts, type(exc).__name__)
        if status is not None and status < 300:
            self._finish(delivery, ok=True)
            return False
        transient = status is None or status == 429 or status >= 500
        if transient and delivery.attempts < self.max_attempts:
            return True
        _log.warning(
            "webhook to %s given up after %d attempt(s), last status %s",
            urlsplit(delivery.url).path,
            delivery.attempts,
            status,
        )
        self._finish(delivery, ok=False)
        return False

    def _finish(self, delivery: Delivery, *, ok: bool) -> None:
        if delivery.generation != self._generation:
            return
        if ok:
            self.stats.delivered += 1
        else:
            self.stats.failed += 1
        self._pending -= 1
        if delivery.on_done is not None:
            try:
                delivery.on_done(ok)
            except Exception:
                _log.exception("webhook completion hook failed")
        if self._pending == 0:
            self._idle.set()
