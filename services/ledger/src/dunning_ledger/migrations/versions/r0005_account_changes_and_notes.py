"""Operators' changes to accounts (with who and what) and agents' notes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger.accounts.account_id"],
            name=op.f("fk_account_changes_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_changes")),
        schema="ledger",
    )
    op.create_index(
        op.f("ix_account_changes_account_id_changed_at"),
        "account_changes",
        ["account_id", "changed_at"],
        schema="ledger",
    )
    op.create_table(
        "account_notes",
        sa.Column("note_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger.accounts.account_id"],
            name=op.f("fk_account_notes_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_account_notes")),
        schema="ledger",
    )
    op.create_index(
        op.f("ix_account_notes_account_id_created_at"),
        "account_notes",
        ["account_id", "created_at"],
        schema="ledger",
    )


def downgrade() -> None:
    op.drop_table("account_notes", schema="ledger")
    op.drop_table("account_changes", schema="ledger")
