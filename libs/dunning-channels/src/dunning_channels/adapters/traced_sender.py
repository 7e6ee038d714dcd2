"""A provider adapter seen from outside: spans of the step's trace, and its latency.

Wraps any ``Sender`` without touching the send path: each send is a ``<channel>.send``
span (the child of the approval's processing span on a first try; on a retry, in the
step's trace through ``step_traceparent``) holding the ``<provider>.call`` span, under
which the HTTP client's instrumentation hangs the request. Each call is timed by
provider and by what came back (``dunning_provider_call_seconds``).
"""

from __future__ import annotations

import time

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import OutreachStep
from dunning_core.runtime import tracing
from dunning_core.runtime.metrics import PROVIDER_SECONDS

from dunning_channels.domain.outcomes import Provider, SendOutcome
from dunning_channels.domain.reconcile import Lookup
from dunning_channels.ports import Sender


class TracedSender:
    """A ``Sender`` that traces and times the one it wraps."""

    def __init__(self, inner: Sender, channel: Channel) -> None:
        self.inner = inner
        self._send_span = f"{channel.value}.send"
        self._call_span = f"{inner.provider}.call"

    @property
    def provider(self) -> Provider:
        return self.inner.provider

    def sender_id(self, step: OutreachStep) -> str:
        return self.inner.sender_id(step)

    async def find(self, account_id: str, step: OutreachStep, since: float) -> Lookup:
        return await self.inner.find(account_id, step, since)

    async def send(
        self, account_id: str, step: OutreachStep, timeout_s: float | None = None
    ) -> SendOutcome:
        step_id = step.step_id
        # Inside the approval's processing span: its child. Alone (a retry): the step's trace.
        parent = None if tracing.current_ids() else tracing.step_traceparent(step_id)
        began, outcome = time.perf_counter(), "error"
        try:
            with (
                tracing.span(self._send_span, parent, {"dunning.step_id": step_id}),
                tracing.within(self._call_span, {"dunning.provider": self.inner.provider}),
            ):
                result = await self.inner.send(account_id, step, timeout_s)
            outcome = type(result).__name__
            return result
        finally:
            PROVIDER_SECONDS.labels(self.inner.provider, outcome).observe(
                time.perf_counter() - began
            )
