"""Index the unpublished outbox rows by key: an operator's signal waits until its account's
records are on Kafka, asking every 20 ms, and must not read a million pending rows of an
import to know.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_pending_key",
        "outbox",
        ["key"],
        schema="ledger",
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_key", table_name="outbox", schema="ledger")
