"""API keys in PostgreSQL. The caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.models import ApiKey


class SqlKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_key(self, key_id: str, *, for_update: bool = False) -> ApiKey | None:
        query = select(ApiKey).where(ApiKey.key_id == key_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add_key(self, key: ApiKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def revoke_key(self, key_id: str, at: datetime, by: str) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.key_id == key_id).values(revoked_at=at, revoked_by=by)
        )

    async def all_keys(self) -> Sequence[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
        return (await self.session.execute(query)).scalars().all()
