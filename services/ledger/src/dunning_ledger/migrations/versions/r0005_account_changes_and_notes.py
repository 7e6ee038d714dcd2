"""Operators' changes to accounts (with who and what) and agents' notes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_ledger.migrations import ddl
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    ddl.create_table(
        "account_changes",
        ddl.serial("id"),
        *ddl.texts("account_id"),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *ddl.instants("changed_at"),
        *ddl.texts("recorded_by", nullable=True),
        key="id",
        parents={"account_id": "accounts"},
    )
    ddl.create_index("account_changes", "account_id", "changed_at")
    ddl.create_table(
        "account_notes",
        *ddl.texts("note_id", "account_id", "text"),
        *ddl.instants("created_at"),
        *ddl.texts("recorded_by", nullable=True),
        key="note_id",
        parents={"account_id": "accounts"},
    )
    ddl.create_index("account_notes", "account_id", "created_at")


def downgrade() -> None:
    op.drop_table("account_notes", schema=ddl.SCHEMA)
    op.drop_table("account_changes", schema=ddl.SCHEMA)
