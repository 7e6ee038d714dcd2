"""Agent tasks: call-backs and replies no rule understood, with every change to them."""

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
        *ddl.texts("task_id", "account_id", "kind", "reason", "source_event_id"),
        *ddl.texts("signal_id", "channel", "address", "message_text", nullable=True),
        *ddl.instants("received_at"),
        sa.Column("zones", postgresql.ARRAY(sa.Text()), nullable=False),
        *ddl.instants("window_start", "window_end", "due_at"),
        sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False),
        *ddl.texts("claimed_by", nullable=True),
        *ddl.instants("claimed_at", "lease_until", nullable=True),
        *ddl.texts("completed_by", nullable=True),
        *ddl.instants("completed_at", nullable=True),
        *ddl.texts("outcome", nullable=True),
        *ddl.instants("created_at", "updated_at"),
        key="task_id",
        parents={"account_id": "accounts"},
        unique=("source_event_id",),
    )
    for columns in (("due_at", "task_id"), ("account_id", "due_at"), ("status", "due_at")):
        ddl.create_index("agent_tasks", *columns)
    ddl.create_table(
        "agent_task_changes",
        ddl.serial("seq"),
        *ddl.texts("task_id", "account_id", "action", "by"),
        *ddl.instants("at"),
        *ddl.texts("note", nullable=True),
        key="seq",
        parents={"task_id": "agent_tasks"},
    )
    for columns in (("account_id", "at"), ("task_id", "seq")):
        ddl.create_index("agent_task_changes", *columns)


def downgrade() -> None:
    op.drop_table("agent_task_changes", schema=ddl.SCHEMA)
    op.drop_table("agent_tasks", schema=ddl.SCHEMA)
