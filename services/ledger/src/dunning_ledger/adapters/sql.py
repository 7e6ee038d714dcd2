"""Small helpers the PostgreSQL repositories share: their base class, binary COPY on the
session's own connection (same transaction) and array parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Select, Text, bindparam, case
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.models import SCHEMA

_Row = TypeVar("_Row")


class SqlRepository:
    """A repository working in the caller's session; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _add(self, *rows: object) -> None:
        """Insert the rows now (flushed), so that a constraint fails at this call."""
        self.session.add_all(rows)
        await self.session.flush()

    async def _one(self, query: Select[_Row], *, for_update: bool) -> _Row | None:
        """The row the query selects, if any; locked until the commit when ``for_update``."""
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session (same transaction)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def copy_records(
    session: AsyncSession,
    table: str,
    columns: Sequence[str],
    records: list[tuple[Any, ...]],
    *,
    schema: str | None = SCHEMA,
) -> None:
    if records:
        connection = await driver(session)
        await connection.copy_records_to_table(
            table, schema_name=schema, columns=list(columns), records=records
        )


def text_array(values: Sequence[str]) -> Any:
    """One array parameter instead of one parameter per value (``IN`` would expand)."""
    return bindparam("values", list(values), type_=ARRAY(Text))


def case_(condition: Any, then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)
