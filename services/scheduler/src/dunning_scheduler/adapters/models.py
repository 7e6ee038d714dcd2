"""The scheduler's own tables (prefix ``scheduler_``), created at start-up.

``scheduler_cases`` holds one row per account: the ledger's snapshot needed to render,
the position on the ladder, the derived status (stored for the planner's index) and what
the consumer and providers told us. ``scheduler_steps`` remembers every planned step with
its exact content, so a deferral re-plans the very message the gate saw.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# The steps the planner releases at their send time: deferred by the gate, or money messages
# held until theirs. A literal predicate, so the partial index below serves the query.
HELD = text("status IN ('deferred', 'scheduled')")

cases = Table(
    "scheduler_cases",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("debt_id", Text),
    Column("revision", Integer, nullable=False),
    Column("consumer", JSONB),
    Column("debt", JSONB),
    Column("policy", Text, nullable=False),
    Column("stage_index", Integer, nullable=False),
    Column("stage_key", Text),
    Column("attempt", Integer, nullable=False),
    Column("next_step_at", DateTime(timezone=True)),
    Column("status", Text, nullable=False),
    Column("resolved", Boolean, nullable=False),
    Column("exhausted", Boolean, nullable=False),
    Column("pause_reasons", ARRAY(Text), nullable=False),
    Column("paused_reason", Text),
    Column("promise_until", DateTime(timezone=True)),
    Column("opted_out_channels", ARRAY(Text), nullable=False),
    Column("bad_addresses", ARRAY(Text), nullable=False),
    Column("soft_failures", JSONB, nullable=False),
    Column("contacted", Boolean, nullable=False),
    Column("last_step_ids", ARRAY(Text), nullable=False),
    Column("last_planned_at", DateTime(timezone=True)),
    Column("steps_planned", Integer, nullable=False),
    Column("priority", Float, nullable=False),
    Column("last_payment_id", Text),
    Column("money", JSONB),  # MoneyState: the plan and promise followed, their messages
    Column("note", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Index(
        "ix_scheduler_cases_due",
        "next_step_at",
        postgresql_where=text("status = 'active' AND next_step_at IS NOT NULL"),
    ),
    Index(
        "ix_scheduler_cases_promise",
        "promise_until",
        postgresql_where=text("promise_until IS NOT NULL"),
    ),
)

steps = Table(
    "scheduler_steps",
    metadata,
    Column("step_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("debt_id", Text, nullable=False),
    Column("stage_key", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("destination", Text, nullable=False),
    Column("content", JSONB, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("send_at", DateTime(timezone=True), nullable=False),
    Column("first_communication", Boolean, nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("gap_after_s", Integer),
    Column("status", Text, nullable=False),
    Column("rule_ids", ARRAY(Text), nullable=False),
    Column("delivery_status", Text),
    Column("replans", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_scheduler_steps_account", "account_id"),
    # Scheduled money messages may wait months: the planner must not scan every step.
    Index("ix_scheduler_steps_held", "send_at", postgresql_where=HELD),
)
