"""When to try a step again, and when to stop trying: a budget per step.

Retries back off exponentially from ``initial_s``, capped at ``maximum_s``, with jitter
(half the delay is random) so that a burst of failures does not come back as a burst;
a provider's ``Retry-After`` is honoured as the least wait. A step gets at most
``max_attempts`` calls and ``max_seconds`` from its first call; past either it fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from dunning_channels.domain.outcomes import Unavailable

RATE_LIMITED = "rate_limited"
CIRCUIT_OPEN = "circuit_open"
RETRY_BUDGET_SPENT = "retry_budget_spent"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_seconds: float = 900.0
    initial_s: float = 1.0
    maximum_s: float = 60.0

    def backoff(self, attempts: int, rand: float) -> float:
        """The wait after the ``attempts``-th failed call; ``rand`` uniform in [0, 1)."""
        capped: float = min(self.maximum_s, self.initial_s * 2.0 ** max(0, attempts - 1))
        return capped / 2 + capped / 2 * rand


@dataclass(frozen=True)
class Retry:
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    reason: str


def next_try(
    policy: RetryPolicy,
    *,
    attempts: int,
    elapsed_s: float,
    unavailable: Unavailable,
    rand: float,
) -> Retry | GiveUp:
    """After ``attempts`` provider calls over ``elapsed_s`` seconds, the last one answered
    ``unavailable``: when to try again, or why not."""
    if unavailable.kind == CIRCUIT_OPEN:
        # Not a call: wait for the breaker, spread out so the re-opening is not a stampede.
        delay = (unavailable.retry_after_s or policy.initial_s) * (1 + rand / 2)
    else:
        if attempts >= policy.max_attempts:
            return GiveUp(_spent(f"{attempts} attempts", unavailable))
        delay = policy.backoff(attempts, rand)
        if unavailable.retry_after_s is not None:
            delay = max(delay, unavailable.retry_after_s)
    if elapsed_s + delay > policy.max_seconds:
        return GiveUp(_spent(f"{policy.max_seconds:g} s", unavailable))
    return Retry(delay)


def _spent(budget: str, last: Unavailable) -> str:
    return f"retry budget of {budget} spent; last: {last.kind}: {last.message}"[:500]


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None
