"""Changing accounts (contact points, consent, language, flags) and agents' notes.

A change is a new revision of the account, announced as ``AccountUpdated`` through the
outbox in the same transaction, so the gate and the scheduler see it; who made it and
what it changed are kept in ``account_changes``. A change that alters nothing writes
nothing and announces nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from dunning_core.contracts.events import (
    AccountUpdated,
    Consumer,
    Debt,
    EmailContact,
    PhoneContact,
)

from dunning_ledger.accounts.schemas import AccountPatch
from dunning_ledger.accounts.service import envelope_of, existing_account, locked_account
from dunning_ledger.domain.accounts import debt_with_balance
from dunning_ledger.domain.changes import apply_change
from dunning_ledger.domain.search import SearchError, normalise_phone
from dunning_ledger.errors import InvalidRequest
from dunning_ledger.models import AccountChangeRecord, AccountNote
from dunning_ledger.ports import UseCase


@dataclass(frozen=True, slots=True)
class Changed:
    account_id: str
    revision: int
    consumer: dict[str, Any]
    debt: dict[str, Any]
    changed: tuple[str, ...]
    recorded_by: str | None


def _phones(patch: AccountPatch) -> list[PhoneContact] | None:
    if patch.phones is None:
        return None
    phones = []
    for n, phone in enumerate(patch.phones):
        try:
            number = normalise_phone(phone.number)
        except SearchError as exc:
            raise InvalidRequest(exc.message, field=f"phones.{n}.number") from None
        values = phone.model_dump(exclude={"number"})
        phones.append(PhoneContact(number=number, **values))
    return phones


class ChangeService(UseCase):
    async def change(
        self, account_id: str, patch: AccountPatch, recorded_by: str | None
    ) -> Changed:
        now = self.clock.now()
        phones = _phones(patch)
        for n, phone in enumerate(phones or ()):
            if phone.consent_at is not None and phone.consent_at > now:
                raise InvalidRequest(
                    f"consent_at {phone.consent_at.isoformat()} is in the future",
                    field=f"phones.{n}.consent_at",
                )
        emails = None
        if patch.emails is not None:
            emails = [EmailContact(**e.model_dump()) for e in patch.emails]
        flags = {} if patch.flags is None else patch.flags.model_dump(exclude_none=True)
        async with self.transactions() as tx:
            account = await locked_account(tx, account_id)
            consumer = Consumer.model_validate(account.consumer)
            debt = Debt.model_validate(account.debt)
            new_consumer, new_debt, changed = apply_change(
                consumer, debt, phones=phones, emails=emails, locale=patch.locale, flags=flags
            )
            # Read before the update: it expires the row's loaded attributes.
            revision, balance_minor = account.revision, account.balance_minor
            before = {"consumer": account.consumer, "debt": account.debt}
            consumer_json = new_consumer.model_dump_json()
            debt_json = new_debt.model_dump_json()
            if changed:
                revision += 1
                await tx.accounts.save_snapshot(
                    account_id, revision=revision, consumer=consumer_json, debt=debt_json, at=now
                )
                await tx.accounts.add_change(
                    AccountChangeRecord(
                        account_id=account_id, revision=revision, changed=list(changed),
                        before=before,
                        after={"consumer": orjson.loads(consumer_json),
                               "debt": orjson.loads(debt_json)},
                        changed_at=now, recorded_by=recorded_by,
                    )
                )  # fmt: skip
                event = AccountUpdated(
                    account_id=account_id,
                    revision=revision,
                    consumer=new_consumer,
                    debt=debt_with_balance(new_debt, balance_minor),
                    updated_at=now,
                    changed=changed,
                    recorded_by=recorded_by,
                )
                await tx.outbox.announce([envelope_of(event, now)])
            await tx.commit()
        return Changed(
            account_id, revision, orjson.loads(consumer_json), orjson.loads(debt_json),
            changed, recorded_by if changed else None,
        )  # fmt: skip

    async def add_note(self, account_id: str, text: str, recorded_by: str | None) -> AccountNote:
        note = AccountNote(
            note_id=f"note_{uuid.uuid4().hex[:16]}",
            account_id=account_id,
            text=text,
            created_at=self.clock.now(),
            recorded_by=recorded_by,
        )
        async with self.transactions() as tx:
            await locked_account(tx, account_id)
            await tx.accounts.add_note(note)
            await tx.commit()
        return note

    async def notes(self, account_id: str) -> Sequence[AccountNote]:
        async with self.transactions() as tx:
            await existing_account(tx, account_id)
            notes = await tx.accounts.notes_of(account_id)
            await tx.commit()
        return notes
