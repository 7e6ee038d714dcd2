"""Pure sms rules: what an inbound text means, what a Twilio status means."""

from __future__ import annotations

import re
import unicodedata

from dunning_core.contracts.events import DeliveryStatus, SignalKind

# CTIA/Twilio standard keywords plus the phrasings the rulebook names; matched on the
# whole normalised message, so "stop please" opts out but "don't stop the plan" is a reply.
_OPT_OUT = frozenset(
    {
        "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "opt out", "optout",
        "stop please", "please stop", "stop it", "no mas", "no more", "alto", "parar", "basta",
        "cancelar", "stop texting me", "stop messaging me", "remove me",
    }
)  # fmt: skip
_OPT_IN = frozenset({"start", "unstop", "yes", "subscribe"})
_HELP = frozenset({"help", "info", "ayuda"})
_DISPUTE = re.compile(r"\b(not my debt|not mine|never owed|dispute|wrong amount|no es mi deuda)\b")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, white space folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"[^\w\s]", " ", plain)
    return " ".join(plain.split())


def classify_inbound(text: str) -> SignalKind:
    words = normalise(text)
    if words in _OPT_OUT:
        return SignalKind.OPTED_OUT
    if words in _OPT_IN:
        return SignalKind.OPTED_IN
    if words in _HELP:
        return SignalKind.HELP_REQUESTED
    if _DISPUTE.search(words):
        return SignalKind.DISPUTED
    return SignalKind.REPLIED


_STATUS = {
    "queued": DeliveryStatus.ACCEPTED,
    "accepted": DeliveryStatus.ACCEPTED,
    "sending": DeliveryStatus.ACCEPTED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def delivery_status(twilio_status: str) -> DeliveryStatus | None:
    """Our status for a Twilio MessageStatus; None for statuses we do not track."""
    return _STATUS.get(twilio_status.lower())


OPTED_OUT_ERROR = "21610"
