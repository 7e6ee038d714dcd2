"""The agent task tables (schema ``ledger``): one row per task, and every change to it.

Declared on the ledger's ``Base``; ``migrations/env.py`` imports this module so that
``Base.metadata`` holds them (``models.py`` is the rest of the ledger's tables).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dunning_ledger.models import Base


class AgentTask(Base):
    """A task for a person: created once per inbound message (``source_event_id``)."""

    __tablename__ = "agent_tasks"
    __table_args__ = (
        Index(None, "due_at", "task_id"),  # the queue's order
        Index(None, "account_id", "due_at"),
        Index(None, "status", "due_at"),
    )

    task_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text, ForeignKey("accounts.account_id"))
    kind: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)  # the reply's intent (call_me, unknown, ...)
    source_event_id: Mapped[str] = mapped_column(Text, unique=True)  # the signal's ce_id
    signal_id: Mapped[str | None] = mapped_column(Text)  # the provider's message id
    channel: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)  # who wrote (E.164 or email)
    message_text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(Text, server_default=text("'open'"))
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgentTaskChange(Base):
    """One change of a task (created, claimed, released, lease lapsed, completed), with who
    and when: what the account's timeline shows."""

    __tablename__ = "agent_task_changes"
    __table_args__ = (Index(None, "account_id", "at"), Index(None, "task_id", "seq"))

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(Text, ForeignKey("agent_tasks.task_id"))
    account_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
