"""What sending an approved step means, without I/O: outcomes and decisions.

Nothing here is async or touches a client; the use case (``service``) asks the ports for
the facts and these functions for what to do with them.
"""

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
    Provider,
    Rejected,
    SendOutcome,
)

__all__ = [
    "Accepted",
    "AmbiguousSend",
    "Provider",
    "Refusal",
    "Rejected",
    "Report",
    "SendOutcome",
    "admission",
    "already_sent",
    "expired",
    "report_for",
]
