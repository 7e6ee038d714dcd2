"""Topic names and which event types travel on each. Every key is the account id."""

from __future__ import annotations

from typing import Final

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import ALL_EVENTS, Event, approved_topic

ACCOUNTS: Final = "accounts.v1"
PAYMENTS: Final = "payments.v1"
PLANNED: Final = "outreach.planned.v1"
APPROVED_SMS: Final = approved_topic(Channel.SMS)
APPROVED_EMAIL: Final = approved_topic(Channel.EMAIL)
DECISIONS: Final = "outreach.decisions.v1"
DELIVERY: Final = "delivery.v1"
SIGNALS: Final = "consumer.signals.v1"
# Not an event topic (no envelope, keyed by key id, compacted): the ledger's API key records,
# read by every service's verifier (dunning_core.runtime.auth, docs/auth.md).
AUTH_KEYS: Final = "auth.keys.v1"

ALL_TOPICS: Final = (
    ACCOUNTS,
    PAYMENTS,
    PLANNED,
    APPROVED_SMS,
    APPROVED_EMAIL,
    DECISIONS,
    DELIVERY,
    SIGNALS,
)


def dlq(topic: str) -> str:
    """The dead-letter companion of a topic."""
    return f"{topic}.dlq"


def topics_of(event: type[Event]) -> tuple[str, ...]:
    if "{channel}" in event.topic:
        return tuple(event.topic.format(channel=c.value) for c in Channel)
    return (event.topic,)


def events_on(topic: str) -> tuple[type[Event], ...]:
    return tuple(e for e in ALL_EVENTS if topic in topics_of(e))
