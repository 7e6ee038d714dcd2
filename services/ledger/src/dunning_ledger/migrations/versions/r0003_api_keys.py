"""API keys (keyed hashes only), and who recorded each payment, plan, dispute and signal."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_ledger.migrations import ddl

revision: str = "0003"
down_revision: str | None = "0002"

_AUTHORED = ("payments", "payment_plans", "disputes", "communication_events")


def upgrade() -> None:
    ddl.create_table(
        "api_keys",
        *ddl.texts("key_id", "principal", "role", "key_hash"),
        *ddl.instants("created_at"),
        *ddl.texts("created_by"),
        *ddl.instants("revoked_at", nullable=True),
        *ddl.texts("revoked_by", nullable=True),
        key="key_id",
    )
    for table in _AUTHORED:
        op.add_column(table, sa.Column("recorded_by", sa.Text(), nullable=True), schema=ddl.SCHEMA)


def downgrade() -> None:
    for table in _AUTHORED:
        op.drop_column(table, "recorded_by", schema=ddl.SCHEMA)
    op.drop_table("api_keys", schema=ddl.SCHEMA)
