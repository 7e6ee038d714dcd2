"""What a consumer's reply means on consumer.signals.v1, for every channel (sms, email):
the one classifier's intent (``dunning_replies``) mapped to a SignalKind, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_replies import classify

# What each intent of the shared classifier (dunning_replies) becomes on consumer.signals.v1.
_SIGNALS: dict[str, SignalKind] = {
    "opt_out": SignalKind.OPTED_OUT,
    "opt_out_all": SignalKind.OPTED_OUT,
    "opt_in": SignalKind.OPTED_IN,
    "help": SignalKind.HELP_REQUESTED,
    "dispute": SignalKind.DISPUTED,
    "promise": SignalKind.PROMISED_TO_PAY,
    # a reassigned number: never text it again, whoever owns the account
    "wrong_number": SignalKind.MEDIUM_RESTRICTED,
}


@dataclass(frozen=True)
class InboundMeaning:
    """What an inbound text is, as a signal: its kind and what the classifier found."""

    kind: SignalKind
    intent: str
    details: dict[str, str]
    all_channels: bool = False


def read_inbound(
    text: str,
    *,
    now: datetime,
    opt_out_type: str | None = None,
    after_opt_out: bool = False,
    tz: str = "America/New_York",
) -> InboundMeaning:
    """The one classifier's reading of a reply (a text, an e-mail's new lines); Twilio's
    OptOutType (Advanced Opt-Out), when the provider sends one, wins over it."""
    found = classify(
        text, tz=tz, now=now, provider_opt_out_type=opt_out_type, after_opt_out=after_opt_out
    )
    intent = found.intent
    details = {"intent": intent, "language": found.language or ""}
    if found.date is not None:
        details["date"] = found.date.isoformat()
    if found.amount is not None:
        details["amount_minor"] = str(found.amount.minor_units)
        details["currency"] = found.amount.currency
    return InboundMeaning(
        kind=_SIGNALS.get(intent, SignalKind.REPLIED),
        intent=intent,
        details={k: v for k, v in details.items() if v},
        all_channels=intent == "opt_out_all",
    )


UNATTRIBUTED = "unattributed"  # the account of a reply from an address no account is known of
_TEXT_MAX = 2000  # ConsumerSignaled.text; the rest of a long e-mail is not the reply


def reply_signals(
    meaning: InboundMeaning,
    owners: set[str],
    *,
    channel: Channel,
    source: Literal["sms", "email"],
    address: str,
    text: str,
    signal_id: str,
    now: datetime,
    details: dict[str, str],
) -> list[tuple[ConsumerSignaled, bool]]:
    """The signals a reply becomes, each with whether it goes to the dead-letter topic: one
    per account owning the address (with STOPALL, one more per channel: every address of
    it), or one unattributed, dead-lettered, when no account is known (never dropped: the
    owners may have been lost with Redis, whoever knows the address attributes it)."""

    def signal(
        account_id: str, sid: str, on: Channel, to: str | None, more: dict[str, str]
    ) -> ConsumerSignaled:
        return ConsumerSignaled(
            account_id=account_id,
            signal_id=sid,
            kind=meaning.kind,
            channel=on,
            address=to,
            text=text[:_TEXT_MAX],
            source=source,
            occurred_at=now,
            details=more,
        )

    if not owners:
        unattributed = {**details, "unattributed": "no account known for this address"}
        return [(signal(UNATTRIBUTED, signal_id, channel, address, unattributed), True)]
    out: list[tuple[ConsumerSignaled, bool]] = []
    for account_id in sorted(owners):
        out.append((signal(account_id, signal_id, channel, address, details), False))
        if meaning.all_channels:  # STOPALL: every channel, not only this address
            for each in Channel:
                out.append((signal(account_id, f"{signal_id}:{each.value}", each, None, {}), False))
    return out
