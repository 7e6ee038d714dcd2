"""API keys in PostgreSQL. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from dunning_ledger.adapters.sql import SqlRepository
from dunning_ledger.models import ApiKey


class SqlKeyRepository(SqlRepository):
    async def get_key(self, key_id: str, *, for_update: bool = False) -> ApiKey | None:
        return await self._one(select(ApiKey).where(ApiKey.key_id == key_id), for_update=for_update)

    async def add_key(self, key: ApiKey) -> None:
        await self._add(key)

    async def revoke_key(self, key_id: str, at: datetime, by: str) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.key_id == key_id).values(revoked_at=at, revoked_by=by)
        )

    async def all_keys(self) -> Sequence[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
        return (await self.session.execute(query)).scalars().all()
