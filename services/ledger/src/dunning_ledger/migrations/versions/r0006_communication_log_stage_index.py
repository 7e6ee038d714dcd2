"""Index the communication log by stage: a search for a rare stage no longer reads every step.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_communication_log_stage_account_id"),
        "communication_log",
        ["stage", "account_id"],
        schema="ledger",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_communication_log_stage_account_id"),
        table_name="communication_log",
        schema="ledger",
    )
