"""Everything one running sandbox holds, built once by the app's lifespan."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import aiohttp
from fastapi import Depends, Request

from dunning_sandbox.charge_store import ChargeStore, StripeEndpoint
from dunning_sandbox.config import SandboxSettings
from dunning_sandbox.event_batcher import EventBatcher
from dunning_sandbox.faults import Faults
from dunning_sandbox.message_store import MessageStore
from dunning_sandbox.signing import EventWebhookSigner
from dunning_sandbox.webhook_dispatcher import WebhookDispatcher


@dataclass(slots=True)
class SandboxState:
    settings: SandboxSettings
    session: aiohttp.ClientSession
    dispatcher: WebhookDispatcher
    batcher: EventBatcher
    signer: EventWebhookSigner
    store: MessageStore
    charges: ChargeStore
    stripe_endpoint: StripeEndpoint
    # Bumped by a reset, so timers scheduled before it do nothing when they fire.
    generation: int = 0
    twilio_credentials: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # Lifecycle steps waiting on a timer (a status not reached yet, an event not emitted).
    scheduled: int = 0
    faults: Faults = field(default_factory=Faults)
    # Advanced Opt-Out: (our number, the consumer's) pairs that texted STOP, not START since.
    opted_out: set[tuple[str, str]] = field(default_factory=set)

    def heard(self, ours: str, theirs: str, keyword: bool | None) -> None:
        """Note an inbound text's opt-out (True) or opt-in (False) keyword."""
        if keyword is True:
            self.opted_out.add((ours, theirs))
        elif keyword is False:
            self.opted_out.discard((ours, theirs))

    @property
    def callback_delay_s(self) -> float:
        return self.settings.callback_delay_ms / 1000

    def later(self, delay_s: float, step: Callable[..., None], *args: Any) -> None:
        """Run `step(*args)` after `delay_s`, unless a reset happens first."""
        generation = self.generation
        self.scheduled += 1

        def fire() -> None:
            if generation != self.generation:
                return
            self.scheduled -= 1
            step(*args)

        asyncio.get_running_loop().call_later(delay_s, fire)

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every accepted message has reported everything; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.batcher.flush()
            if self.scheduled == 0 and self.dispatcher.pending == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)

    def reset(self) -> None:
        self.generation += 1
        self.scheduled = 0
        self.dispatcher.reset()
        self.batcher.reset()
        self.store.clear()
        self.charges.clear()
        self.faults.clear()
        self.opted_out.clear()


def rfc2822_now() -> str:
    """Now, formatted as Twilio formats its dates (`Tue, 06 May 2025 10:00:00 +0000`)."""
    return email.utils.formatdate(time.time()).replace("-0000", "+0000")


async def get_state(request: Request) -> SandboxState:
    # async on purpose: FastAPI runs plain `def` dependencies in a thread pool, per request
    state: SandboxState = request.app.state.sandbox
    return state


StateDep = Annotated[SandboxState, Depends(get_state)]
