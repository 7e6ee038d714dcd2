"""Indexes for account search: name (trigrams), contact points and state, status, balance,
due date.
"""

from __future__ import annotations

from alembic import op
from dunning_ledger.migrations import ddl

revision: str = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_accounts_full_name_trgm ON ledger.accounts "
        "USING gin (lower(consumer ->> 'full_name') gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_accounts_consumer ON ledger.accounts USING gin (consumer jsonb_path_ops)"
    )
    ddl.create_index("accounts", "status", "account_id")
    ddl.create_index("accounts", "currency", "balance_minor")
    op.execute("CREATE INDEX ix_accounts_due_date ON ledger.accounts ((debt ->> 'due_date'))")


def downgrade() -> None:
    for name in (
        "ix_accounts_due_date",
        "ix_accounts_currency_balance_minor",
        "ix_accounts_status_account_id",
        "ix_accounts_consumer",
        "ix_accounts_full_name_trgm",
    ):
        op.drop_index(name, table_name="accounts", schema=ddl.SCHEMA)
