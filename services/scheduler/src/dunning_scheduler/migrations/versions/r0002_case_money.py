"""Cases follow the account's money: the plan and promise, their messages, events applied.

A database whose tables were created from these models already has the column: adopted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_scheduler.migrations import ddl
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    if ddl.has_column("scheduler_cases", "money"):  # an earlier create_all made it
        return
    op.add_column(
        "scheduler_cases",
        sa.Column("money", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("scheduler_cases", "money")
