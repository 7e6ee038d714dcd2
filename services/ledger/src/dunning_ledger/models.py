"""The ledger's tables (PostgreSQL schema ``ledger``), as SQLAlchemy 2 typed ORM models.

The migrations in ``migrations/versions`` create exactly these; an integration test
compares the two.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dunning_ledger.itemization_columns import ItemizationColumns

SCHEMA = "ledger"
Instant = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(
        schema=SCHEMA,
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        },
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB, datetime: Instant}


class _OfAccount:
    """The columns a money row opens with: its account (a key into ``accounts``), the debt
    and the currency."""

    account_id: Mapped[str] = mapped_column(Text, ForeignKey("accounts.account_id"))
    debt_id: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))


class _Arrangement(_OfAccount):
    """A promise or a settlement: an amount to pay by a date, paid toward until it ends."""

    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    status: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column()
    source: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(Text)

    @staticmethod
    def indexes(table: str, made: str, due: str) -> tuple[Index, Index]:
        """An account's arrangements by when they were made, and the open ones by the date
        they fall due (what the due-date pass looks for)."""
        return (
            Index(None, "account_id", made),
            Index(f"ix_{table}_open", due, postgresql_where=text("status = 'open'")),
        )


class Account(ItemizationColumns, Base):
    """One account and its debt; ``debt`` and ``consumer`` are the imported snapshot."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index(None, "debt_id"),  # an import checks who holds each debt
        # Search (domain.search): a name anywhere in the full name (trigrams), phone, email
        # and state by their contact points, status and balance ranges, days past due.
        Index(
            "ix_accounts_full_name_trgm",
            literal_column("lower(consumer ->> 'full_name')").label("full_name"),
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ),
        # ledger.contact_points: revision 0013 (phone, email and state; a search asks for
        # no other field of the consumer).
        Index(
            "ix_accounts_contact_points",
            literal_column("ledger.contact_points(consumer)").label("contact_points"),
            postgresql_using="gin",
            postgresql_ops={"contact_points": "jsonb_path_ops"},
        ),
        Index(None, "status", "account_id"),
        Index(None, "currency", "balance_minor"),
        Index("ix_accounts_due_date", text("(debt ->> 'due_date')")),
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    consumer: Mapped[dict[str, Any]]
    debt: Mapped[dict[str, Any]]
    debt_id: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    imported_balance_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    credit_minor: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    status: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    opened_by: Mapped[str | None] = mapped_column(Text)  # the importer's API key principal


class AccountChangeRecord(Base):
    """An operator's change to an account (contact points, consent, language, flags)."""

    __tablename__ = "account_changes"
    __table_args__ = (Index(None, "account_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(Text, ForeignKey("accounts.account_id"))
    revision: Mapped[int] = mapped_column(Integer)
    changed: Mapped[list[str]] = mapped_column(ARRAY(Text))
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]
    changed_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(Text)


class AccountNote(Base):
    """A note an agent wrote on an account."""

    __tablename__ = "account_notes"
    __table_args__ = (Index(None, "account_id", "created_at"),)

    note_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text, ForeignKey("accounts.account_id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(Text)


class Payment(_OfAccount, Base):
    __tablename__ = "payments"
    __table_args__ = (Index(None, "account_id", "received_at"),)

    payment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(Text)
    remaining_balance_minor: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(Text)  # the API key's principal
    source: Mapped[str | None] = mapped_column(Text)  # api | page | processor | operator
    # What it paid (domain.lifecycle.Allocation): what a reversal takes back.
    allocation: Mapped[dict[str, Any] | None]


class PaymentPlan(_OfAccount, Base):
    __tablename__ = "payment_plans"
    __table_args__ = (
        Index(None, "account_id", "agreed_at"),
        Index("ix_payment_plans_active", "account_id", postgresql_where=text("status = 'active'")),
    )

    plan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    instalment_minor: Mapped[int] = mapped_column(BigInteger)
    instalments: Mapped[int] = mapped_column(Integer)
    first_due: Mapped[date] = mapped_column(Date)
    agreed_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(Text, server_default=text("'monthly'"))
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text, server_default=text("'active'"))
    ended_at: Mapped[datetime | None]
    source: Mapped[str | None] = mapped_column(Text)


class PlanInstallment(Base):
    """One installment of a plan; ``missed_at`` is set once, when its miss was announced."""

    __tablename__ = "plan_installments"
    __table_args__ = (
        Index(None, "account_id"),
        Index(
            "ix_plan_installments_unmissed", "due_on", postgresql_where=text("missed_at IS NULL")
        ),
    )

    plan_id: Mapped[str] = mapped_column(
        Text, ForeignKey("payment_plans.plan_id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    missed_at: Mapped[datetime | None]


class Promise(_Arrangement, Base):
    """A promise to pay an amount by a date: open, kept or broken."""

    __tablename__ = "promises"
    __table_args__ = _Arrangement.indexes("promises", made="made_at", due="due_on")

    promise_id: Mapped[str] = mapped_column(Text, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    made_at: Mapped[datetime]


class Settlement(_Arrangement, Base):
    """A lump sum below the balance, to be paid by a date: open, paid or lapsed."""

    __tablename__ = "settlements"
    __table_args__ = _Arrangement.indexes("settlements", made="agreed_at", due="pay_by")

    settlement_id: Mapped[str] = mapped_column(Text, primary_key=True)
    balance_minor: Mapped[int] = mapped_column(BigInteger)  # when agreed
    pay_by: Mapped[date] = mapped_column(Date)
    offer_id: Mapped[str | None] = mapped_column(Text)
    agreed_at: Mapped[datetime]


class PaymentReversal(Base):
    """A payment taken back (chargeback, NSF...): at most one per payment."""

    __tablename__ = "payment_reversals"
    __table_args__ = (Index(None, "account_id", "reversed_at"),)

    payment_id: Mapped[str] = mapped_column(
        Text, ForeignKey("payments.payment_id"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    reversed_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    source: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(Text)


class Dispute(Base):
    """A dispute, opened by a ``disputed`` signal and closed by ``dispute_verified``."""

    __tablename__ = "disputes"
    __table_args__ = (Index(None, "account_id", "opened_at"),)

    dispute_id: Mapped[str] = mapped_column(Text, primary_key=True)  # the signal's ce_id
    account_id: Mapped[str] = mapped_column(Text)
    debt_id: Mapped[str | None] = mapped_column(Text)
    signal_id: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(Text)  # set when entered through the API


class ConsumerFlag(Base):
    """The latest state of one flag (opt-out, cease, attorney...) on one scope of an account."""

    __tablename__ = "consumer_flags"
    # The pass that ends timed pauses (every 10 s) reads only the active pauses: a partial
    # index, not a scan of every flag of a million accounts.
    __table_args__ = (
        Index(
            "ix_consumer_flags_paused",
            "account_id",
            postgresql_where=text("flag = 'outreach_paused' AND active"),
        ),
    )

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    flag: Mapped[str] = mapped_column(Text, primary_key=True)
    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]
    signal_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class CommunicationLog(Base):
    """One row per step: its latest decision and its furthest delivery status."""

    __tablename__ = "communication_log"
    __table_args__ = (
        Index(None, "account_id", "created_at"),
        Index(None, "decision"),
        Index(None, "channel", "delivery_status"),
        Index(None, "stage", "account_id"),  # search by stage (domain.search)
    )

    step_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    debt_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int | None] = mapped_column(Integer)
    destination: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)
    rule_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    not_before: Mapped[datetime | None]
    policy_version: Mapped[str | None] = mapped_column(Text)
    first_decided_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decisions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    delivery_status: Mapped[str | None] = mapped_column(Text)
    delivery_rank: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    status_at: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CommunicationEvent(Base):
    """Append-only audit trail: every decision, delivery and signal event, in full."""

    __tablename__ = "communication_events"
    __table_args__ = (Index(None, "account_id", "id"), Index(None, "step_id"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    ce_id: Mapped[str] = mapped_column(Text, unique=True)
    ce_type: Mapped[str] = mapped_column(Text)
    ce_source: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str] = mapped_column(Text)
    step_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # decision | delivery | signal
    outcome: Mapped[str] = mapped_column(Text)  # the decision, status or signal kind
    occurred_at: Mapped[datetime]
    traceparent: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(Text)  # an API key's principal


class ProcessedEvent(Base):
    """Durable dedupe: written in the same transaction as the event's effects."""

    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(Text, primary_key=True)
    ce_id: Mapped[str] = mapped_column(Text, primary_key=True)
    processed_at: Mapped[datetime]


class ApiKey(Base):
    """An API key: its keyed hash only (the plain key is shown once, never stored)."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(Text, primary_key=True)
    principal: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(Text)


class OutboxRecord(Base):
    """A Kafka record, encoded, waiting to be published (transactional outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_pending_key", "key", postgresql_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(Text)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[list[str]]] = mapped_column(JSONB)  # [[name, value], ...]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    published_at: Mapped[datetime | None]
