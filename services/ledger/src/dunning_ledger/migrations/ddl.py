"""The pieces the ledger's revisions repeat: tables in the schema with their keys, columns
added, indexes, all named by the models' naming convention (``models.Base``), the columns
every money table opens with, and columns of one type named together.

Revisions already applied run these again on every fresh database: a helper here may be
added, never changed in what it emits (the offline SQL of ``upgrade head --sql`` must
stay the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

SCHEMA = "ledger"
INSTANT = sa.DateTime(timezone=True)


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def foreign_key(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    """``table.column`` refers to the column of the same name in ``parent``."""
    return sa.ForeignKeyConstraint(
        [column], [f"{SCHEMA}.{parent}.{column}"], name=op.f(f"fk_{table}_{column}_{parent}")
    )


def texts(*names: str, nullable: bool = False) -> list[sa.Column[Any]]:
    """A ``TEXT`` column for each name, in the order named."""
    return [sa.Column(name, sa.Text(), nullable=nullable) for name in names]


def instants(*names: str, nullable: bool = False) -> list[sa.Column[Any]]:
    """A timestamp-with-time-zone column (``INSTANT``) for each name, in the order named."""
    return [sa.Column(name, INSTANT, nullable=nullable) for name in names]


def serial(name: str) -> sa.Column[Any]:
    """A ``BIGSERIAL`` key: the row's number in the order rows were written."""
    return sa.Column(name, sa.BigInteger(), autoincrement=True, nullable=False)


def money_columns(key: str, amount: str = "amount_minor") -> list[sa.Column[Any]]:
    """A money table's first columns: its own id, the account and debt, an amount, currency."""
    return [
        sa.Column(key, sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.Text(), nullable=False),
        sa.Column(amount, sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
    ]


def create_table(
    table: str,
    *columns: sa.Column[Any],
    key: str | tuple[str, ...],
    parents: Mapping[str, str] | None = None,
    unique: tuple[str, ...] = (),
) -> None:
    """``table`` in the schema, keyed by ``key``; each column of ``parents`` refers to its
    parent table (``foreign_key``), each of ``unique`` is unique. The constraints are made
    in this order (foreign keys, primary key, unique) because CREATE TABLE lists them in
    the order they were made: the SQL of applied revisions stays the same."""
    op.create_table(
        table,
        *columns,
        *(foreign_key(table, column, parent) for column, parent in (parents or {}).items()),
        primary_key(table, *((key,) if isinstance(key, str) else key)),
        *(sa.UniqueConstraint(column, name=op.f(f"uq_{table}_{column}")) for column in unique),
        schema=SCHEMA,
    )


def add_columns(table: str, *columns: sa.Column[Any]) -> None:
    for column in columns:
        op.add_column(table, column, schema=SCHEMA)


def index_name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def create_index(table: str, *columns: str, name: str | None = None, where: str = "") -> None:
    """An index named ``ix_<table>_<columns>`` unless named; partial when ``where`` is given."""
    op.create_index(
        op.f(name or index_name(table, columns)),
        table,
        list(columns),
        schema=SCHEMA,
        postgresql_where=sa.text(where) if where else None,
    )


def drop_index(table: str, *columns: str, name: str | None = None) -> None:
    op.drop_index(op.f(name or index_name(table, columns)), table_name=table, schema=SCHEMA)
