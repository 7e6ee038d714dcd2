"""Money with a life cycle: plan installments, promises, settlements, reversals; plans
gain frequency, total, status; payments their source and allocation; accounts a credit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promises",
        sa.Column("promise_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.Text(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger.accounts.account_id"],
            name=op.f("fk_promises_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("promise_id", name=op.f("pk_promises")),
        schema="ledger",
    )
    op.create_index(
        op.f("ix_promises_account_id_made_at"),
        "promises",
        ["account_id", "made_at"],
        unique=False,
        schema="ledger",
    )
    op.create_index(
        "ix_promises_open",
        "promises",
        ["due_on"],
        unique=False,
        schema="ledger",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "settlements",
        sa.Column("settlement_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.Text(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.Text(), nullable=True),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger.accounts.account_id"],
            name=op.f("fk_settlements_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("settlement_id", name=op.f("pk_settlements")),
        schema="ledger",
    )
    op.create_index(
        op.f("ix_settlements_account_id_agreed_at"),
        "settlements",
        ["account_id", "agreed_at"],
        unique=False,
        schema="ledger",
    )
    op.create_index(
        "ix_settlements_open",
        "settlements",
        ["pay_by"],
        unique=False,
        schema="ledger",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "payment_reversals",
        sa.Column("payment_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["ledger.payments.payment_id"],
            name=op.f("fk_payment_reversals_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payment_reversals")),
        schema="ledger",
    )
    op.create_index(
        op.f("ix_payment_reversals_account_id_reversed_at"),
        "payment_reversals",
        ["account_id", "reversed_at"],
        unique=False,
        schema="ledger",
    )
    op.create_table(
        "plan_installments",
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["ledger.payment_plans.plan_id"],
            name=op.f("fk_plan_installments_plan_id_payment_plans"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "seq", name=op.f("pk_plan_installments")),
        schema="ledger",
    )
    op.create_index(
        op.f("ix_plan_installments_account_id"),
        "plan_installments",
        ["account_id"],
        unique=False,
        schema="ledger",
    )
    op.create_index(
        "ix_plan_installments_unmissed",
        "plan_installments",
        ["due_on"],
        unique=False,
        schema="ledger",
        postgresql_where=sa.text("missed_at IS NULL"),
    )
    op.add_column(
        "accounts",
        sa.Column("credit_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        schema="ledger",
    )
    op.add_column(
        "payment_plans",
        sa.Column("frequency", sa.Text(), server_default=sa.text("'monthly'"), nullable=False),
        schema="ledger",
    )
    op.add_column(
        "payment_plans", sa.Column("total_minor", sa.BigInteger(), nullable=True), schema="ledger"
    )
    op.add_column(
        "payment_plans",
        sa.Column("status", sa.Text(), server_default=sa.text("'active'"), nullable=False),
        schema="ledger",
    )
    op.add_column(
        "payment_plans",
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        schema="ledger",
    )
    op.add_column("payment_plans", sa.Column("source", sa.Text(), nullable=True), schema="ledger")
    op.create_index(
        "ix_payment_plans_active",
        "payment_plans",
        ["account_id"],
        unique=False,
        schema="ledger",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.add_column("payments", sa.Column("source", sa.Text(), nullable=True), schema="ledger")
    op.add_column(
        "payments",
        sa.Column("allocation", postgresql.JSONB(astext_type=Text()), nullable=True),
        schema="ledger",
    )


def downgrade() -> None:
    op.drop_column("payments", "allocation", schema="ledger")
    op.drop_column("payments", "source", schema="ledger")
    op.drop_index("ix_payment_plans_active", table_name="payment_plans", schema="ledger")
    for column in ("source", "ended_at", "status", "total_minor", "frequency"):
        op.drop_column("payment_plans", column, schema="ledger")
    op.drop_column("accounts", "credit_minor", schema="ledger")
    for table in ("plan_installments", "payment_reversals", "settlements", "promises"):
        op.drop_table(table, schema="ledger")
