"""What a consumer's signal suppresses at a channel worker, whatever way it came.

A worker keeps suppressions by key: a destination (a number, an address) or one of an
account's holds (``account_keys``): its opt-out of this channel as a whole (STOPALL, an
unsubscribe from every address), a pending dispute, a cease (or attorney, bankruptcy,
death), an operator's pause. The gate stops planning such steps; these keep the worker from
sending what it was already given. A lift (START, a verified dispute, a resume) undoes only
what it lifts.
"""

from __future__ import annotations

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, SignalKind

_OPT_OUTS = (SignalKind.OPTED_OUT, SignalKind.UNSUBSCRIBED, SignalKind.SPAM_REPORTED)
_FOR_GOOD = (
    SignalKind.CEASE_REQUESTED,
    SignalKind.ATTORNEY_REPRESENTED,
    SignalKind.BANKRUPTCY_FILED,
    SignalKind.DECEASED,
)


def _opted_out(account_id: str) -> str:
    return f"account-optout:{account_id}"


def _disputed(account_id: str) -> str:
    return f"account-dispute:{account_id}"


def _ceased(account_id: str) -> str:
    return f"account-cease:{account_id}"


def _paused(account_id: str) -> str:
    return f"account-pause:{account_id}"


def account_keys(account_id: str) -> tuple[str, ...]:
    """The keys whose suppression holds every send for the account on this channel."""
    return (_opted_out(account_id), _disputed(account_id), _ceased(account_id), _paused(account_id))


def send_keys(account_id: str, destination: str) -> tuple[str, ...]:
    """The suppressions that stop a send: its destination's, its account's."""
    return (destination, *account_keys(account_id))


def suppression_changes(signal: ConsumerSignaled, channel: Channel) -> list[tuple[str, bool]]:
    """(key, suppressed) for each suppression ``signal`` sets (True) or lifts (False) at
    the worker of ``channel``."""
    kind, account = signal.kind, signal.account_id
    address = (signal.address or "").lower()
    mine = signal.channel is None or signal.channel is channel
    if kind in _OPT_OUTS or kind is SignalKind.MEDIUM_RESTRICTED:
        if address:
            return [(address, True)]
        return [(_opted_out(account), True)] if mine else []
    if kind is SignalKind.OPTED_IN:
        lifted = [(address, False)] if address else []
        return lifted + ([(_opted_out(account), False)] if mine else [])
    if kind is SignalKind.DISPUTED:
        return [(_disputed(account), True)]
    if kind is SignalKind.DISPUTE_VERIFIED:
        return [(_disputed(account), False)]
    if kind in _FOR_GOOD:
        return [(_ceased(account), True)]
    if kind is SignalKind.OUTREACH_PAUSED:
        return [(_paused(account), True)]
    if kind is SignalKind.OUTREACH_RESUMED:
        return [(_paused(account), False)]
    return []
