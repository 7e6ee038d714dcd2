"""Index accounts by debt_id: an import checks that no other account holds a debt."""

from __future__ import annotations

from dunning_ledger.migrations import ddl

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    ddl.create_index("accounts", "debt_id")


def downgrade() -> None:
    ddl.drop_index("accounts", name="ix_accounts_debt_id")
