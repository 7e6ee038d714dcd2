"""Cases follow the account's money: the plan and promise, their messages, events applied;
an index on the steps the planner releases at their time (deferred, scheduled).

A database whose tables were created from these models already has the column: adopted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 05:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("scheduler_cases")}
    if "money" not in columns:  # else created by an earlier create_all from the same models
        op.add_column(
            "scheduler_cases",
            sa.Column("money", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        )
    indexes = {i["name"] for i in inspector.get_indexes("scheduler_steps")}
    if "ix_scheduler_steps_held" not in indexes:
        op.create_index(
            "ix_scheduler_steps_held",
            "scheduler_steps",
            ["send_at"],
            postgresql_where=sa.text("status IN ('deferred', 'scheduled')"),
        )


def downgrade() -> None:
    op.drop_index("ix_scheduler_steps_held", table_name="scheduler_steps")
    op.drop_column("scheduler_cases", "money")
