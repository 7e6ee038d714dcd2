"""Agent tasks: call-backs and replies no rule understood, with every change to them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
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
        sa.Column("received_at", _INSTANT, nullable=False),
        sa.Column("zones", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("window_start", _INSTANT, nullable=False),
        sa.Column("window_end", _INSTANT, nullable=False),
        sa.Column("due_at", _INSTANT, nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_at", _INSTANT, nullable=True),
        sa.Column("lease_until", _INSTANT, nullable=True),
        sa.Column("completed_by", sa.Text(), nullable=True),
        sa.Column("completed_at", _INSTANT, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger.accounts.account_id"],
            name=op.f("fk_agent_tasks_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_agent_tasks")),
        sa.UniqueConstraint("source_event_id", name=op.f("uq_agent_tasks_source_event_id")),
        schema="ledger",
    )
    for columns in (["due_at", "task_id"], ["account_id", "due_at"], ["status", "due_at"]):
        op.create_index(
            op.f(f"ix_agent_tasks_{'_'.join(columns)}"), "agent_tasks", columns, schema="ledger"
        )
    op.create_table(
        "agent_task_changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("at", _INSTANT, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["ledger.agent_tasks.task_id"],
            name=op.f("fk_agent_task_changes_task_id_agent_tasks"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_agent_task_changes")),
        schema="ledger",
    )
    for columns in (["account_id", "at"], ["task_id", "seq"]):
        op.create_index(
            op.f(f"ix_agent_task_changes_{'_'.join(columns)}"),
            "agent_task_changes",
            columns,
            schema="ledger",
        )


def downgrade() -> None:
    op.drop_table("agent_task_changes", schema="ledger")
    op.drop_table("agent_tasks", schema="ledger")
