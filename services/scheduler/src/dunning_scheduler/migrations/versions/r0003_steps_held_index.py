"""An index on the steps the planner releases at their time (deferred, scheduled): money
messages may be held for months, and the planner looks for the due ones every tick.

A database whose tables were created from these models already has it: adopted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_scheduler.migrations import ddl

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    if ddl.has_index("scheduler_steps", "ix_scheduler_steps_held"):
        return
    op.create_index(
        "ix_scheduler_steps_held",
        "scheduler_steps",
        ["send_at"],
        postgresql_where=sa.text("status IN ('deferred', 'scheduled')"),
    )


def downgrade() -> None:
    op.drop_index("ix_scheduler_steps_held", table_name="scheduler_steps")
