"""API keys (keyed hashes only), and who recorded each payment, plan, dispute and signal.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 02:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTHORED = ("payments", "payment_plans", "disputes", "communication_events")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        schema="ledger",
    )
    for table in _AUTHORED:
        op.add_column(table, sa.Column("recorded_by", sa.Text(), nullable=True), schema="ledger")


def downgrade() -> None:
    for table in _AUTHORED:
        op.drop_column(table, "recorded_by", schema="ledger")
    op.drop_table("api_keys", schema="ledger")
