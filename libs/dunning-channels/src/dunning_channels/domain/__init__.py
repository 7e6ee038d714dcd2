"""What sending an approved step means, without I/O: outcomes and decisions.

Nothing here is async or touches a client; the use case (``service``) asks the ports for
the facts and these functions for what to do with them.
"""

from dunning_channels.domain.breaker import BreakerState, CircuitBreaker, provider_answered
from dunning_channels.domain.call_times import CallTimes
from dunning_channels.domain.decisions import (
    PENDING,
    SUPPRESSED,
    Refusal,
    Report,
    SendGuard,
    admission,
    already_sent,
    concluded,
    expired,
    report_for,
)
from dunning_channels.domain.events import (
    SEND_BY_PASSED,
    delivery_update,
    expiry,
    opt_out_signal,
)
from dunning_channels.domain.outcomes import (
    Accepted,
    AmbiguousSend,
    Answered,
    Provider,
    Rejected,
    SendOutcome,
    Unavailable,
    not_sent,
)
from dunning_channels.domain.pacing import Rate, next_turn
from dunning_channels.domain.reconcile import (
    UNCERTAIN,
    Found,
    Lookup,
    LookupFailed,
    NotFound,
    ReconcilePolicy,
    gives_up,
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
from dunning_channels.domain.suppression import account_keys, send_keys, suppression_changes

__all__ = [
    "CIRCUIT_OPEN",
    "PENDING",
    "RATE_LIMITED",
    "RETRY_BUDGET_SPENT",
    "SEND_BY_PASSED",
    "SUPPRESSED",
    "UNCERTAIN",
    "Accepted",
    "AmbiguousSend",
    "Answered",
    "BreakerState",
    "CallTimes",
    "CircuitBreaker",
    "Found",
    "GiveUp",
    "Lookup",
    "LookupFailed",
    "NotFound",
    "Provider",
    "Rate",
    "ReconcilePolicy",
    "Refusal",
    "Rejected",
    "Report",
    "Retry",
    "RetryPolicy",
    "SendGuard",
    "SendOutcome",
    "Unavailable",
    "account_keys",
    "admission",
    "already_sent",
    "concluded",
    "delivery_update",
    "expired",
    "expiry",
    "gives_up",
    "next_try",
    "next_turn",
    "not_sent",
    "opt_out_signal",
    "provider_answered",
    "report_for",
    "retry_after_seconds",
    "send_keys",
    "suppression_changes",
]
