"""Small helpers the PostgreSQL repositories share: their base class, binary COPY on the
session's own connection (same transaction) and array parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import ARRAY, Select, Text, bindparam, case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dunning_ledger.models import SCHEMA


class _OfAccount(Protocol):
    """A mapped class with an ``account_id`` column."""

    account_id: str


_Row = TypeVar("_Row")
_Owned = TypeVar("_Owned", bound=_OfAccount)


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

    async def _of_account(
        self, model: type[_Owned], account_id: str, *order: InstrumentedAttribute[Any]
    ) -> Sequence[_Owned]:
        """The model's rows of one account, in the given order."""
        owner = cast("InstrumentedAttribute[str]", model.account_id)  # the class's column
        query = select(model).where(owner == account_id).order_by(*order)
        return (await self.session.scalars(query)).all()


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
