"""Money with a life cycle: plan installments, promises, settlements, reversals; plans
gain frequency, total, status; payments their source and allocation; accounts a credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from dunning_ledger.migrations import ddl
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"


def upgrade() -> None:
    _create_arrangement(
        "promises",
        "promise_id",
        sa.Column("due_on", sa.Date(), nullable=False),
        due="due_on",
        agreed_at="made_at",
    )
    _create_arrangement(
        "settlements",
        "settlement_id",
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        due="pay_by",
        agreed_at="agreed_at",
        agreed_with=ddl.texts("offer_id", nullable=True),
    )
    ddl.create_table(
        "payment_reversals",
        *ddl.texts("payment_id", "account_id", "reason"),
        *ddl.instants("reversed_at", "recorded_at"),
        *ddl.texts("source", "recorded_by", nullable=True),
        key="payment_id",
        parents={"payment_id": "payments"},
    )
    ddl.create_index("payment_reversals", "account_id", "reversed_at")
    ddl.create_table(
        "plan_installments",
        *ddl.texts("plan_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        *ddl.texts("account_id"),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        *ddl.instants("missed_at", nullable=True),
        key=("plan_id", "seq"),
        parents={"plan_id": "payment_plans"},
    )
    ddl.create_index("plan_installments", "account_id")
    ddl.create_index(
        "plan_installments",
        "due_on",
        name="ix_plan_installments_unmissed",
        where="missed_at IS NULL",
    )
    ddl.add_columns(
        "accounts",
        sa.Column("credit_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    ddl.add_columns(
        "payment_plans",
        sa.Column("frequency", sa.Text(), server_default=sa.text("'monthly'"), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'active'"), nullable=False),
        *ddl.instants("ended_at", nullable=True),
        *ddl.texts("source", nullable=True),
    )
    ddl.create_index(
        "payment_plans", "account_id", name="ix_payment_plans_active", where="status = 'active'"
    )
    ddl.add_columns(
        "payments",
        *ddl.texts("source", nullable=True),
        sa.Column("allocation", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("payments", "allocation", schema=ddl.SCHEMA)
    op.drop_column("payments", "source", schema=ddl.SCHEMA)
    ddl.drop_index("payment_plans", name="ix_payment_plans_active")
    for column in ("source", "ended_at", "status", "total_minor", "frequency"):
        op.drop_column("payment_plans", column, schema=ddl.SCHEMA)
    op.drop_column("accounts", "credit_minor", schema=ddl.SCHEMA)
    for table in ("plan_installments", "payment_reversals", "settlements", "promises"):
        op.drop_table(table, schema=ddl.SCHEMA)


def _create_arrangement(
    table: str,
    key: str,
    *terms: sa.Column[Any],
    due: str,
    agreed_at: str,
    agreed_with: Sequence[sa.Column[Any]] = (),
) -> None:
    """A promise's or a settlement's table (``models._Arrangement``): the money columns, its
    terms, what was paid toward it and its status, how and when it was agreed, when it
    ended, from what source and by whom; indexed by account and time agreed, and its open
    rows by ``due``."""
    ddl.create_table(
        table,
        *ddl.money_columns(key),
        *terms,
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        *ddl.texts("status"),
        *agreed_with,
        *ddl.instants(agreed_at),
        *ddl.instants("ended_at", nullable=True),
        *ddl.texts("source", "recorded_by", nullable=True),
        key=key,
        parents={"account_id": "accounts"},
    )
    ddl.create_index(table, "account_id", agreed_at)
    ddl.create_index(table, due, name=f"ix_{table}_open", where="status = 'open'")
