"""Small helpers the PostgreSQL repositories share: binary COPY on the session's own
connection (same transaction) and array parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Text, bindparam, case
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ledger.models import SCHEMA


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
