"""The pieces the ledger's revisions repeat: the names of keys and indexes (the models'
naming convention, ``models.Base``), the schema, and the columns every money table opens with.

Revisions already applied run these again on every fresh database: a helper here may be
added, never changed in what it emits (the offline SQL of ``upgrade head --sql`` must
stay the same).
"""

from __future__ import annotations

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


def money_columns(key: str, amount: str = "amount_minor") -> list[sa.Column[Any]]:
    """A money table's first columns: its own id, the account and debt, an amount, currency."""
    return [
        sa.Column(key, sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.Text(), nullable=False),
        sa.Column(amount, sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
    ]


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
