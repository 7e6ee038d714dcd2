"""Batches SendGrid events into Event Webhook POSTs, as SendGrid does.

A batch is posted when it holds `max_events` events or `interval_s` after its first
event, whichever comes first. Each attempt is signed with a fresh timestamp.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import orjson

from dunning_sandbox.signing import (
    SENDGRID_SIGNATURE_HEADER,
    SENDGRID_TIMESTAMP_HEADER,
    EventWebhookSigner,
)
from dunning_sandbox.webhook_dispatcher import Delivery, WebhookDispatcher


@dataclass(eq=False)
class EventBatcher:
    """Collects events and hands signed batches to the dispatcher."""

    dispatcher: WebhookDispatcher
    signer: EventWebhookSigner
    url: str | None
    _: KW_ONLY
    max_events: int
    interval_s: float
    _buffer: list[dict[str, Any]] = field(init=False, default_factory=list)
    # Per buffered event: what to tell when its batch is done (delivered or given up).
    _hooks: list[Callable[[bool], None] | None] = field(init=False, default_factory=list)
    _timer: asyncio.TimerHandle | None = field(init=False, default=None)
    batches_posted: int = field(init=False, default=0)
    events_without_url: int = field(init=False, default=0)

    def add(
        self, events: list[dict[str, Any]], on_done: Callable[[bool], None] | None = None
    ) -> None:
        """Queue ``events``; ``on_done`` is called once per event when its batch is done."""
        if self.url is None:
            self.events_without_url += len(events)
            if on_done is not None:
                for _ in events:
                    on_done(False)
            return
        self._buffer.extend(events)
        self._hooks.extend([on_done] * len(events))
        if len(self._buffer) >= self.max_events:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval_s, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._buffer and self.url is not None:
            n = self.max_events
            batch, self._buffer = self._buffer[:n], self._buffer[n:]
            hooks, self._hooks = self._hooks[:n], self._hooks[n:]
            self._post(self.url, orjson.dumps(batch), hooks)

    def reset(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._buffer = []
        self._hooks = []
        self.batches_posted = 0
        self.events_without_url = 0

    def _post(self, url: str, payload: bytes, hooks: list[Callable[[bool], None] | None]) -> None:
        signer = self.signer

        def build() -> tuple[bytes, dict[str, str]]:
            timestamp = str(int(time.time()))
            return payload, {
                "Content-Type": "application/json",
                "User-Agent": "SendGrid Event API",
                SENDGRID_TIMESTAMP_HEADER: timestamp,
                SENDGRID_SIGNATURE_HEADER: signer.sign(timestamp, payload),
            }

        def done(delivered: bool) -> None:
            for hook in hooks:
                if hook is not None:
                    hook(delivered)

        self.batches_posted += 1
        self.dispatcher.submit(Delivery(url=url, build=build, on_done=done))
