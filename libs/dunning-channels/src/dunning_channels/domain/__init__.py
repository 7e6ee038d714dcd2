"""What sending an approved step means, without I/O: outcomes and decisions.

Nothing here is async or touches a client; the use case (``service``) asks the ports for
the facts and these functions for what to do with them.
"""

from dunning_channels.domain.breaker import BreakerState, CircuitBreaker, provider_answered
from dunning_channels.domain.decisions import (
    Refusal,
    Report,
    admission,
    already_sent,
    expired,
    report_for,
)
from dunning_channels.domain.outcomes import (
    Accepted,
    AmbiguousSend,
    Answered,
    Provider,
    Rejected,
    SendOutcome,
    Unavailable,
)
from dunning_channels.domain.retry import (
    CIRCUIT_OPEN,
    RATE_LIMITED,
    RETRY_BUDGET_SPENT,
    GiveUp,
    Retry,
    RetryPolicy,
    next_try,
    retry_after_seconds,
)

__all__ = [
    "CIRCUIT_OPEN",
    "RATE_LIMITED",
    "RETRY_BUDGET_SPENT",
    "Accepted",
    "AmbiguousSend",
    "Answered",
    "BreakerState",
    "CircuitBreaker",
    "GiveUp",
    "Provider",
    "Refusal",
    "Rejected",
    "Report",
    "Retry",
    "RetryPolicy",
    "SendOutcome",
    "Unavailable",
    "admission",
    "already_sent",
    "expired",
    "next_try",
    "provider_answered",
    "report_for",
    "retry_after_seconds",
]
