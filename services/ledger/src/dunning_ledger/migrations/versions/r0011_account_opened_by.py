"""Who opened an account: the principal of the API key whose import created it (the
timeline's "account opened by ..."). Accounts opened before this revision have none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No default and nullable: a catalog-only change, instant on a table of millions.
    op.add_column("accounts", sa.Column("opened_by", sa.Text(), nullable=True), schema="ledger")


def downgrade() -> None:
    op.drop_column("accounts", "opened_by", schema="ledger")
