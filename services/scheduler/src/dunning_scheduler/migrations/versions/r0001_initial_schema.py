"""Initial schema: cases and steps, as the scheduler created them at start-up before.

A database where an earlier scheduler already created both tables (``create_all``, from
the same models) is adopted as it is: the revision is recorded, nothing is recreated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from dunning_scheduler.migrations import ddl
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None

_CASE_INDEXES = (  # name, column, the rows it holds (partial)
    ("ix_scheduler_cases_due", "next_step_at", "status = 'active' AND next_step_at IS NOT NULL"),
    ("ix_scheduler_cases_promise", "promise_until", "promise_until IS NOT NULL"),
)


def upgrade() -> None:
    if ddl.has_tables("scheduler_cases", "scheduler_steps"):
        return
    op.create_table(
        "scheduler_cases",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("consumer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("debt", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("next_step_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("exhausted", sa.Boolean(), nullable=False),
        sa.Column("pause_reasons", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("promise_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out_channels", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("bad_addresses", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("soft_failures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("contacted", sa.Boolean(), nullable=False),
        sa.Column("last_step_ids", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("last_planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("steps_planned", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("last_payment_id", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
    )
    for name, column, where in _CASE_INDEXES:
        op.create_index(name, "scheduler_cases", [column], postgresql_where=sa.text(where))
    op.create_table(
        "scheduler_steps",
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("debt_id", sa.Text(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_communication", sa.Boolean(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gap_after_s", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rule_ids", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("delivery_status", sa.Text(), nullable=True),
        sa.Column("replans", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("step_id"),
    )
    op.create_index("ix_scheduler_steps_account", "scheduler_steps", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scheduler_steps_account", table_name="scheduler_steps")
    op.drop_table("scheduler_steps")
    for name, _, _ in reversed(_CASE_INDEXES):
        op.drop_index(name, table_name="scheduler_cases")
    op.drop_table("scheduler_cases")
