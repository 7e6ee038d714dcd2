"""A circuit breaker per provider: stop calling a provider that is down, probe it later.

Closed, it counts the last ``window`` calls; when at least ``min_calls`` of them are
counted and ``failure_ratio`` of those failed, it opens. Open, it refuses calls for
``open_s``; then it half-opens and lets one call through as a probe: success closes it,
failure opens it again. Time is passed in (seconds on any monotonic scale), so it is
pure and tests drive it with a fake clock.

A failure is the provider not answering properly (5xx, timeout, network, refused
credentials); a rate-limit answer is the provider working as designed and counts as
success, so a few destinations that always get 429 never stop the channel.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dunning_channels.domain.outcomes import SendOutcome, Unavailable
from dunning_channels.domain.retry import RATE_LIMITED


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(kw_only=True, eq=False)
class CircuitBreaker:
    window: int = 50
    min_calls: int = 20
    failure_ratio: float = 0.5
    open_s: float = 30.0
    state: BreakerState = field(default=BreakerState.CLOSED, init=False)
    opened_at: float = field(default=0.0, init=False)
    times_opened: int = field(default=0, init=False)
    _calls: deque[bool] = field(init=False, repr=False)
    _probing: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self._calls = deque(maxlen=self.window)

    def allow(self, now: float) -> bool:
        """Whether a call may go to the provider now (a half-open probe counts as one)."""
        if self.state is BreakerState.OPEN and now >= self.opened_at + self.open_s:
            self.state = BreakerState.HALF_OPEN
            self._probing = False
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record(self, ok: bool, now: float) -> None:
        """The result of a call ``allow`` let through."""
        if self.state is BreakerState.HALF_OPEN:
            if ok:
                self.state = BreakerState.CLOSED
                self._calls.clear()
            else:
                self._open(now)
            self._probing = False
            return
        if self.state is BreakerState.OPEN:
            return  # a call that left before it opened
        self._calls.append(ok)
        failures = self._calls.count(False)
        if len(self._calls) >= self.min_calls and failures >= self.failure_ratio * len(self._calls):
            self._open(now)

    def retry_in(self, now: float) -> float:
        """How long until a refused call is worth trying again."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.opened_at + self.open_s - now)
        return min(1.0, self.open_s)  # half-open: the probe is out, its answer comes soon

    def snapshot(self, now: float) -> dict[str, Any]:
        report: dict[str, Any] = {
            "state": self.state.value,
            "times_opened": self.times_opened,
            "recent_calls": len(self._calls),
            "recent_failures": self._calls.count(False),
        }
        if self.state is BreakerState.OPEN:
            report["closes_in_s"] = round(self.retry_in(now), 1)
        return report

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self.times_opened += 1
        self._calls.clear()


def provider_answered(outcome: SendOutcome) -> bool:
    """Whether an answer shows the provider working (a success for the breaker)."""
    return not isinstance(outcome, Unavailable) or outcome.kind == RATE_LIMITED
