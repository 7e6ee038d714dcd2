"""The Regulation F itemization an import gave, as columns of the account (for reports and
the figures): generated from the debt snapshot (``debt -> 'itemization'``), so the import
writes nothing more and a debt without one leaves them null.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from dunning_ledger.migrations import ddl

revision: str = "0009"
down_revision: str | None = "0008"

_I = "(debt -> 'itemization')"
# Generation expressions must be immutable: a text-to-date cast is not (it reads DateStyle),
# make_date of the ISO date's parts is.
_DATE = (
    f"make_date(substr({_I} ->> 'itemization_date', 1, 4)::integer, "
    f"substr({_I} ->> 'itemization_date', 6, 2)::integer, "
    f"substr({_I} ->> 'itemization_date', 9, 2)::integer)"
)
ITEMIZATION_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], str], ...] = (
    ("itemization_date", sa.Date(), _DATE),
    ("itemization_basis", sa.Text(), f"{_I} ->> 'basis'"),
    ("itemization_amount_minor", sa.BigInteger(), f"({_I} ->> 'amount_minor')::bigint"),
    ("itemization_interest_minor", sa.BigInteger(), f"({_I} ->> 'interest_minor')::bigint"),
    ("itemization_fees_minor", sa.BigInteger(), f"({_I} ->> 'fees_minor')::bigint"),
    ("itemization_payments_minor", sa.BigInteger(), f"({_I} ->> 'payments_minor')::bigint"),
    ("itemization_credits_minor", sa.BigInteger(), f"({_I} ->> 'credits_minor')::bigint"),
)


def upgrade() -> None:
    for name, column_type, expression in ITEMIZATION_COLUMNS:
        op.add_column(
            "accounts",
            sa.Column(name, column_type, sa.Computed(expression, persisted=True), nullable=True),
            schema=ddl.SCHEMA,
        )


def downgrade() -> None:
    for name, _, _ in reversed(ITEMIZATION_COLUMNS):
        op.drop_column("accounts", name, schema=ddl.SCHEMA)
