"""An operator's change to an account's contact points, consent, language and flags (pure).

A change replaces what it names and keeps the rest: ``phones`` or ``emails`` given are the
account's whole list afterwards; flags not given keep their value. A change that alters
nothing is no change (no new revision, nothing announced). The imported balance and the
import's fingerprint are not touched: re-importing the same file still changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from dunning_core.contracts.events import Consumer, Debt, EmailContact, PhoneContact

CONSUMER_FLAGS: Final = ("nyc_electronic_consent",)
DEBT_FLAGS: Final = ("medical", "legal_action_authorized")
FLAGS: Final = CONSUMER_FLAGS + DEBT_FLAGS


def apply_change(
    consumer: Consumer,
    debt: Debt,
    *,
    phones: Sequence[PhoneContact] | None = None,
    emails: Sequence[EmailContact] | None = None,
    locale: str | None = None,
    flags: Mapping[str, bool] | None = None,
) -> tuple[Consumer, Debt, tuple[str, ...]]:
    """The consumer and debt after the change, and the names of what changed."""
    on_consumer: dict[str, Any] = {}
    on_debt: dict[str, Any] = {}
    if phones is not None and tuple(phones) != consumer.phones:
        on_consumer["phones"] = tuple(phones)
    if emails is not None and tuple(emails) != consumer.emails:
        on_consumer["emails"] = tuple(emails)
    if locale is not None and locale != consumer.locale:
        on_consumer["locale"] = locale
    for name, value in (flags or {}).items():
        if name in CONSUMER_FLAGS and getattr(consumer, name) != value:
            on_consumer[name] = value
        elif name in DEBT_FLAGS and getattr(debt, name) != value:
            on_debt[name] = value
    changed = tuple(on_consumer) + tuple(on_debt)
    return consumer.model_copy(update=on_consumer), debt.model_copy(update=on_debt), changed
