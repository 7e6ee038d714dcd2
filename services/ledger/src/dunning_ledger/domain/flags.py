"""What a consumer's signal changes in the flags the ledger keeps on an account (pure).

A flag is (kind, scope): the scope is the address concerned (an E.164 number or an
email), else ``channel:<channel>``, else ``all``. The latest signal for a flag wins, by
the time it occurred, so an opt-in after an opt-out re-opens the address and a late
opt-out that happened first does not undo a later opt-in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, EmailContact, SignalKind
from pydantic import ValidationError

from dunning_ledger.domain.import_format import parse_phone
from dunning_ledger.errors import InvalidRequest

# signal kind -> (flag, active). Kinds absent here (help, replies) change no flag.
FLAG_OF_SIGNAL: Final[dict[SignalKind, tuple[str, bool]]] = {
    SignalKind.OPTED_OUT: ("opted_out", True),
    SignalKind.UNSUBSCRIBED: ("opted_out", True),
    SignalKind.SPAM_REPORTED: ("opted_out", True),
    SignalKind.OPTED_IN: ("opted_out", False),
    SignalKind.MEDIUM_RESTRICTED: ("medium_restricted", True),
    SignalKind.INCONVENIENT_TIME: ("inconvenient_time", True),
    SignalKind.DISPUTED: ("disputed", True),
    SignalKind.DISPUTE_VERIFIED: ("disputed", False),
    SignalKind.CEASE_REQUESTED: ("cease_requested", True),
    SignalKind.ATTORNEY_REPRESENTED: ("attorney_represented", True),
    SignalKind.BANKRUPTCY_FILED: ("bankruptcy_filed", True),
    SignalKind.DECEASED: ("deceased", True),
    SignalKind.PROMISED_TO_PAY: ("promised_to_pay", True),
    SignalKind.OUTREACH_PAUSED: ("outreach_paused", True),
    SignalKind.OUTREACH_RESUMED: ("outreach_paused", False),
}
PAUSED_FLAG: Final = "outreach_paused"
# An operator's pause and its end: entered only through the pause and resume routes (whose
# permission is the operator's), never as a signal (an agent's).
PAUSE_SIGNALS: Final = frozenset({SignalKind.OUTREACH_PAUSED, SignalKind.OUTREACH_RESUMED})
# Flags that are about one contact point rather than the whole account.
_ADDRESSED: Final = frozenset({"opted_out", "medium_restricted"})

# Signals an operator may enter through the API (the rest come from the channels).
OPERATOR_SIGNALS: Final = frozenset(
    {
        SignalKind.DISPUTED,
        SignalKind.DISPUTE_VERIFIED,
        SignalKind.CEASE_REQUESTED,
        SignalKind.ATTORNEY_REPRESENTED,
        SignalKind.BANKRUPTCY_FILED,
        SignalKind.DECEASED,
        SignalKind.OPTED_OUT,
        SignalKind.MEDIUM_RESTRICTED,
        SignalKind.INCONVENIENT_TIME,
        SignalKind.PROMISED_TO_PAY,
    }
)


@dataclass(frozen=True, slots=True)
class FlagChange:
    """A flag as a signal sets it: its fields are the columns of ``consumer_flags``."""

    account_id: str
    flag: str
    scope: str
    active: bool
    changed_at: datetime
    signal_id: str
    kind: str
    source: str
    channel: str | None
    detail: str | None


def scope_of(signal: ConsumerSignaled, flag: str) -> str:
    if flag not in _ADDRESSED:
        return "all"
    if signal.address:
        return signal.address
    if signal.channel is not None:
        return f"channel:{signal.channel.value}"
    return "all"


def flag_change(signal: ConsumerSignaled) -> FlagChange | None:
    mapped = FLAG_OF_SIGNAL.get(signal.kind)
    if mapped is None:
        return None
    flag, active = mapped
    return FlagChange(
        account_id=signal.account_id,
        flag=flag,
        scope=scope_of(signal, flag),
        active=active,
        changed_at=signal.occurred_at,
        signal_id=signal.signal_id,
        kind=signal.kind.value,
        source=signal.source,
        channel=signal.channel.value if signal.channel else None,
        detail=signal.text,
    )


def fold_flags(signals: Iterable[ConsumerSignaled]) -> list[FlagChange]:
    """One change per (account, flag, scope): the latest signal's."""
    latest: dict[tuple[str, str, str], FlagChange] = {}
    for signal in signals:
        change = flag_change(signal)
        if change is None:
            continue
        key = (change.account_id, change.flag, change.scope)
        current = latest.get(key)
        if current is None or change.changed_at >= current.changed_at:
            latest[key] = change
    return list(latest.values())


def contact_address(address: str, channel: Channel | None) -> str:
    """An operator-entered address in the form flags use: E.164 for a phone, the email as
    written; ``InvalidRequest`` (field ``address``) when it is neither."""
    is_email = channel is Channel.EMAIL or (channel is None and "@" in address)
    if is_email:
        try:
            EmailContact(address=address)
        except ValidationError as exc:
            reason = str(exc.errors()[0]["msg"]).removeprefix(
                "value is not a valid email address: "
            )
            raise InvalidRequest(
                f"{address!r} is not an email address: {reason}", "address"
            ) from None
        return address
    try:
        return parse_phone(address)
    except ValueError as exc:
        raise InvalidRequest(f"{exc}; an sms address is a phone number", "address") from None
