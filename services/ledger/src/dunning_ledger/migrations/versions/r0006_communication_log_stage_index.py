"""Index the communication log by stage: a search for a rare stage no longer reads every step."""

from __future__ import annotations

from dunning_ledger.migrations import ddl

revision: str = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    ddl.create_index("communication_log", "stage", "account_id")


def downgrade() -> None:
    ddl.drop_index("communication_log", name="ix_communication_log_stage_account_id")
