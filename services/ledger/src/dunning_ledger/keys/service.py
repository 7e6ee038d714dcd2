"""Creating, listing and revoking API keys; and looking one up for the ledger's verifier.

The ledger owns the keys: a key is stored as its keyed hash (HMAC-SHA256 under the pepper,
``DUNNING_AUTH_PEPPER``) and every change is published through the outbox, in the same
transaction, as a ``KeyRecord`` on the compacted topic ``auth.keys.v1`` for the other
services' verifiers.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from dunning_core.contracts.access import (
    KeyRecord,
    Principal,
    Role,
    format_key,
    key_hash,
)
from dunning_core.contracts.topics import AUTH_KEYS
from pydantic import SecretStr

from dunning_ledger.errors import NotFound, Unavailable
from dunning_ledger.models import ApiKey
from dunning_ledger.ports import Clock, Transaction, Transactions, UseCase


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    plain: str  # returned once, never stored


def record_of(key: ApiKey) -> KeyRecord:
    return KeyRecord(
        key_id=key.key_id,
        principal=key.principal,
        role=Role(key.role),
        key_hash=key.key_hash,
        revoked=key.revoked_at is not None,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


async def _publish(tx: Transaction, key: ApiKey) -> None:
    record = record_of(key)
    await tx.outbox.announce_record(
        AUTH_KEYS, record.key_id.encode(), record.model_dump_json().encode()
    )


class KeyService(UseCase):
    def __init__(self, transactions: Transactions, clock: Clock, pepper: SecretStr | None) -> None:
        super().__init__(transactions, clock)
        self._pepper = pepper.get_secret_value().encode() if pepper else None

    async def create(self, name: str, role: Role, by: Principal) -> CreatedKey:
        if self._pepper is None:
            raise Unavailable("keys cannot be made: DUNNING_AUTH_PEPPER is not set")
        key_id = secrets.token_hex(6)
        plain = format_key(key_id, secrets.token_urlsafe(32))
        now = self.clock.now()
        row = ApiKey(
            key_id=key_id,
            principal=name,
            role=role.value,
            key_hash=key_hash(self._pepper, plain),
            created_at=now,
            created_by=by.name,
            revoked_at=None,
            revoked_by=None,
        )
        async with self.transactions() as tx:
            await tx.keys.add_key(row)
            await _publish(tx, row)
            await tx.commit()
        return CreatedKey(row, plain)

    async def keys(self) -> Sequence[ApiKey]:
        async with self.transactions() as tx:
            rows = await tx.keys.all_keys()
            await tx.commit()
        return rows

    async def revoke(self, key_id: str, by: Principal) -> ApiKey:
        """Idempotent: revoking a revoked key changes nothing and says so."""
        now = self.clock.now()
        async with self.transactions() as tx:
            row = await tx.keys.get_key(key_id, for_update=True)
            if row is None:
                raise NotFound(f"no API key {key_id!r}")
            if row.revoked_at is None:
                await tx.keys.revoke_key(key_id, now, by.name)
                row.revoked_at, row.revoked_by = now, by.name
                await _publish(tx, row)
            await tx.commit()
        return row

    async def key(self, key_id: str) -> KeyRecord | None:
        """The verifier's look-up (``dunning_core.runtime.auth.KeyStore``)."""
        async with self.transactions() as tx:
            row = await tx.keys.get_key(key_id)
            await tx.commit()
        return None if row is None else record_of(row)
