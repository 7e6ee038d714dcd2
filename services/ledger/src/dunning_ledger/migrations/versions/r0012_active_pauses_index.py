"""Index the active operator pauses: the pass that ends timed pauses asks every 10 s and
must not scan every flag of every account to find the few paused ones.
"""

from __future__ import annotations

from dunning_ledger.migrations import ddl

revision: str = "0012"
down_revision: str | None = "0011"


def upgrade() -> None:
    ddl.create_index(
        "consumer_flags",
        "account_id",
        name="ix_consumer_flags_paused",
        where="flag = 'outreach_paused' AND active",
    )


def downgrade() -> None:
    ddl.drop_index("consumer_flags", name="ix_consumer_flags_paused")
