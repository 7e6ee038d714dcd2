"""Index accounts by debt_id: an import checks that no other account holds a debt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_accounts_debt_id"), "accounts", ["debt_id"], unique=False, schema="ledger"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_accounts_debt_id"), table_name="accounts", schema="ledger")
