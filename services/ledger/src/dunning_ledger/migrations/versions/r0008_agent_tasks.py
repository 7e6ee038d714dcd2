"""Agent tasks: call-backs and replies no rule understood, with every change to them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_ledger.migrations import ddl
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    ddl.create_table(
        "agent_tasks",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_event_id", sa.Text(), nullable=False),
        sa.Column("signal_id", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("message_text", sa.Text(), nullable=True),
        sa.Column("received_at", ddl.INSTANT, nullable=False),
        sa.Column("zones", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("window_start", ddl.INSTANT, nullable=False),
        sa.Column("window_end", ddl.INSTANT, nullable=False),
        sa.Column("due_at", ddl.INSTANT, nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_at", ddl.INSTANT, nullable=True),
        sa.Column("lease_until", ddl.INSTANT, nullable=True),
        sa.Column("completed_by", sa.Text(), nullable=True),
        sa.Column("completed_at", ddl.INSTANT, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", ddl.INSTANT, nullable=False),
        sa.Column("updated_at", ddl.INSTANT, nullable=False),
        key="task_id",
        parents={"account_id": "accounts"},
        unique=("source_event_id",),
    )
    for columns in (("due_at", "task_id"), ("account_id", "due_at"), ("status", "due_at")):
        ddl.create_index("agent_tasks", *columns)
    ddl.create_table(
        "agent_task_changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("at", ddl.INSTANT, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        key="seq",
        parents={"task_id": "agent_tasks"},
    )
    for columns in (("account_id", "at"), ("task_id", "seq")):
        ddl.create_index("agent_task_changes", *columns)


def downgrade() -> None:
    op.drop_table("agent_task_changes", schema=ddl.SCHEMA)
    op.drop_table("agent_tasks", schema=ddl.SCHEMA)
