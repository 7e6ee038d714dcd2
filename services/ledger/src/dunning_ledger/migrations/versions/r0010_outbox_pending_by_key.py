"""Index the unpublished outbox rows by key: an operator's signal waits until its account's
records are on Kafka, asking every 20 ms, and must not read a million pending rows of an
import to know.
"""

from __future__ import annotations

from dunning_ledger.migrations import ddl

revision: str = "0010"
down_revision: str | None = "0009"


def upgrade() -> None:
    ddl.create_index("outbox", "key", name="ix_outbox_pending_key", where="published_at IS NULL")


def downgrade() -> None:
    ddl.drop_index("outbox", name="ix_outbox_pending_key")
