"""What an import announces, in the pieces the set-based SQL needs to write an
``AccountOpened`` outbox record exactly as ``outbox_record`` would."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from dunning_core.contracts.common import Instant
from dunning_core.contracts.envelope import SOURCE_PREFIX, Envelope
from dunning_core.contracts.events import AccountOpened, AccountUpdated, Event
from pydantic import TypeAdapter

from dunning_ledger.accounts.service import envelope_of
from dunning_ledger.config import SERVICE
from dunning_ledger.domain.accounts import AccountChange, debt_with_balance

SOURCE: Final = SOURCE_PREFIX + SERVICE
_INSTANT: Final = TypeAdapter(Instant)


def instant_json(at: datetime) -> str:
    """An instant as the event models write it in JSON (with its quotes)."""
    return _INSTANT.dump_json(at).decode()


def instant_text(at: datetime) -> str:
    """An instant as the ``ce_time`` header carries it."""
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def account_event(change: AccountChange, at: datetime, *, opened: bool) -> Envelope:
    """The ``AccountOpened`` or ``AccountUpdated`` announcing an imported account."""
    account = change.account
    debt = debt_with_balance(account.debt, change.balance_minor)
    fields: dict[str, Any] = {
        "account_id": account.account_id,
        "revision": change.revision,
        "consumer": account.consumer,
        "debt": debt,
    }
    event: Event = (
        AccountOpened(**fields, opened_at=at) if opened else AccountUpdated(**fields, updated_at=at)
    )
    return envelope_of(event, at)
