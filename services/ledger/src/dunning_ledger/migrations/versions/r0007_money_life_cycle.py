"""Money with a life cycle: plan installments, promises, settlements, reversals; plans
gain frequency, total, status; payments their source and allocation; accounts a credit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_ledger.migrations import ddl
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"


def upgrade() -> None:
    op.create_table(
        "promises",
        *ddl.money_columns("promise_id"),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("made_at", ddl.INSTANT, nullable=False),
        sa.Column("ended_at", ddl.INSTANT, nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        ddl.foreign_key("promises", "account_id", "accounts"),
        ddl.primary_key("promises", "promise_id"),
        schema=ddl.SCHEMA,
    )
    ddl.create_index("promises", "account_id", "made_at")
    ddl.create_index("promises", "due_on", name="ix_promises_open", where="status = 'open'")
    op.create_table(
        "settlements",
        *ddl.money_columns("settlement_id"),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.Text(), nullable=True),
        sa.Column("agreed_at", ddl.INSTANT, nullable=False),
        sa.Column("ended_at", ddl.INSTANT, nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        ddl.foreign_key("settlements", "account_id", "accounts"),
        ddl.primary_key("settlements", "settlement_id"),
        schema=ddl.SCHEMA,
    )
    ddl.create_index("settlements", "account_id", "agreed_at")
    ddl.create_index("settlements", "pay_by", name="ix_settlements_open", where="status = 'open'")
    op.create_table(
        "payment_reversals",
        sa.Column("payment_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reversed_at", ddl.INSTANT, nullable=False),
        sa.Column("recorded_at", ddl.INSTANT, nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        ddl.foreign_key("payment_reversals", "payment_id", "payments"),
        ddl.primary_key("payment_reversals", "payment_id"),
        schema=ddl.SCHEMA,
    )
    ddl.create_index("payment_reversals", "account_id", "reversed_at")
    op.create_table(
        "plan_installments",
        sa.Column("plan_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("missed_at", ddl.INSTANT, nullable=True),
        ddl.foreign_key("plan_installments", "plan_id", "payment_plans"),
        ddl.primary_key("plan_installments", "plan_id", "seq"),
        schema=ddl.SCHEMA,
    )
    ddl.create_index("plan_installments", "account_id")
    ddl.create_index(
        "plan_installments",
        "due_on",
        name="ix_plan_installments_unmissed",
        where="missed_at IS NULL",
    )
    op.add_column(
        "accounts",
        sa.Column("credit_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        schema=ddl.SCHEMA,
    )
    op.add_column(
        "payment_plans",
        sa.Column("frequency", sa.Text(), server_default=sa.text("'monthly'"), nullable=False),
        schema=ddl.SCHEMA,
    )
    op.add_column(
        "payment_plans", sa.Column("total_minor", sa.BigInteger(), nullable=True), schema=ddl.SCHEMA
    )
    op.add_column(
        "payment_plans",
        sa.Column("status", sa.Text(), server_default=sa.text("'active'"), nullable=False),
        schema=ddl.SCHEMA,
    )
    op.add_column(
        "payment_plans",
        sa.Column("ended_at", ddl.INSTANT, nullable=True),
        schema=ddl.SCHEMA,
    )
    op.add_column("payment_plans", sa.Column("source", sa.Text(), nullable=True), schema=ddl.SCHEMA)
    ddl.create_index(
        "payment_plans", "account_id", name="ix_payment_plans_active", where="status = 'active'"
    )
    op.add_column("payments", sa.Column("source", sa.Text(), nullable=True), schema=ddl.SCHEMA)
    op.add_column(
        "payments",
        sa.Column("allocation", postgresql.JSONB(astext_type=Text()), nullable=True),
        schema=ddl.SCHEMA,
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
