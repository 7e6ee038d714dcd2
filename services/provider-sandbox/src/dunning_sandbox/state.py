"""Everything one running sandbox holds, built once by the app's lifespan."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request

from dunning_sandbox.config import SandboxSettings
from dunning_sandbox.event_batcher import EventBatcher
from dunning_sandbox.message_store import MessageStore
from dunning_sandbox.signing import EventWebhookSigner
from dunning_sandbox.webhook_dispatcher import WebhookDispatcher


@dataclass(slots=True)
class SandboxState:
    settings: SandboxSettings
    client: httpx.AsyncClient
    dispatcher: WebhookDispatcher
    batcher: EventBatcher
    signer: EventWebhookSigner
    store: MessageStore
    # Bumped by a reset, so timers scheduled before it do nothing when they fire.
    generation: int = 0
    twilio_credentials: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def callback_delay_s(self) -> float:
        return self.settings.callback_delay_ms / 1000

    def reset(self) -> None:
        self.generation += 1
        self.dispatcher.reset()
        self.batcher.reset()
        self.store.clear()


def rfc2822_now() -> str:
    """Now, formatted as Twilio formats its dates (`Tue, 06 May 2025 10:00:00 +0000`)."""
    return email.utils.formatdate(time.time()).replace("-0000", "+0000")


def get_state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


StateDep = Annotated[SandboxState, Depends(get_state)]
