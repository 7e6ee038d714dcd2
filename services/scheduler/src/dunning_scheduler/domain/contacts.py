"""Which address a step goes to, and whether a case can still be reached at all."""

from __future__ import annotations

from dunning_core.contracts.common import Channel
from dunning_core.contracts.events import AddressBasis, PhoneConsent

from dunning_scheduler.domain.case import Case

_FIRST_HAND = (AddressBasis.CONSUMER_USED, AddressBasis.CONSENTED)


def normal_address(address: str) -> str:
    return address.strip().lower()


def destination(case: Case, channel: Channel) -> str | None:
    """The address to use on ``channel``, or None when the case cannot use that channel.

    Texts go to mobile numbers with consent on record; email prefers personal addresses with
    a recorded basis, and uses a workplace one only if the consumer used it or consented.
    """
    consumer = case.consumer
    if consumer is None or channel in case.opted_out_channels:
        return None
    bad = case.bad_addresses
    if channel == Channel.SMS:
        for phone in consumer.phones:
            if (
                phone.kind == "mobile"
                and phone.consent != PhoneConsent.NONE
                and phone.basis != AddressBasis.NONE
                and normal_address(phone.number) not in bad
            ):
                return phone.number
        return None
    personal = [e for e in consumer.emails if not e.workplace]
    workplace = [e for e in consumer.emails if e.workplace and e.basis in _FIRST_HAND]
    for email in (*personal, *workplace):
        if email.basis != AddressBasis.NONE and normal_address(email.address) not in bad:
            return str(email.address)
    return None


def reachable(case: Case) -> bool:
    """Whether any channel still has a usable address."""
    return any(destination(case, channel) is not None for channel in Channel)


def channel_of(address: str) -> Channel:
    return Channel.EMAIL if "@" in address else Channel.SMS
