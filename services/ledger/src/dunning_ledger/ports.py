"""What the ledger's use cases and relay need from the outside, as small protocols.

A use case opens a ``Transaction`` (``async with transactions() as tx``), reads and writes
through its repositories, and calls ``tx.commit()`` itself; leaving the block without
committing rolls everything back. Repositories never commit. The PostgreSQL adapters are
in each aggregate's ``repository`` module; tests pass in-memory fakes of these protocols.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from dunning_core.contracts.envelope import Envelope
from dunning_core.runtime.clock import Clock as Clock

from dunning_ledger import models
from dunning_ledger.domain.accounts import AccountChange, AccountStatus, StoredAccount, status_for
from dunning_ledger.domain.communications import DecisionFold, DeliveryFold
from dunning_ledger.domain.figures import FigureCounts
from dunning_ledger.domain.flags import FlagChange
from dunning_ledger.domain.import_format import RowError
from dunning_ledger.domain.import_rows import ImportedAccount
from dunning_ledger.domain.import_stream import CheckedRows, ReadItem
from dunning_ledger.domain.search import AccountQuery
from dunning_ledger.domain.summary import SummaryCounts
from dunning_ledger.domain.task_query import TaskQuery
from dunning_ledger.tasks.models import AgentTask, AgentTaskChange


class RawPublisher(Protocol):
    """Sends an already-encoded record; the future resolves when the broker has it.

    ``dunning_core.runtime.kafka.EventProducer`` is the production implementation.
    """

    async def send_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]: ...


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account as written by an import."""

    account_id: str
    revision: int
    consumer: str  # JSON text
    debt: str  # JSON text
    debt_id: str
    currency: str
    imported_balance_minor: int
    balance_minor: int
    status: AccountStatus
    fingerprint: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event for the append-only communication_events table."""

    ce_id: str
    ce_type: str
    ce_source: str
    account_id: str
    step_id: str | None
    kind: str
    outcome: str
    occurred_at: datetime
    traceparent: str | None
    payload: str  # the event's JSON


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """An account's balance after a payment or its reversal (named as the account's
    columns); the status follows the balance."""

    balance_minor: int
    paid_minor: int
    credit_minor: int
    updated_at: datetime

    def columns(self) -> dict[str, Any]:
        """The account columns it sets."""
        return {**asdict(self), "status": status_for(self.balance_minor)}


class AccountRepository(Protocol):
    async def get(self, account_id: str, *, for_update: bool = False) -> models.Account | None: ...

    async def set_balance(self, account_id: str, change: BalanceChange) -> None: ...

    async def save_snapshot(
        self, account_id: str, *, revision: int, consumer: str, debt: str, at: datetime
    ) -> None:
        """A new revision of the account's consumer and debt (JSON text)."""
        ...

    async def add_change(self, change: models.AccountChangeRecord) -> None: ...

    async def changes_of(self, account_id: str) -> Sequence[models.AccountChangeRecord]: ...

    async def add_note(self, note: models.AccountNote) -> None: ...

    async def notes_of(self, account_id: str) -> Sequence[models.AccountNote]: ...

    async def search(self, query: AccountQuery) -> Sequence[models.Account]:
        """Up to ``query.limit + 1`` matching accounts after the cursor, by account_id."""
        ...

    async def summary_counts(self) -> SummaryCounts: ...

    async def ping(self) -> None: ...


MoneyRow = TypeVar(
    "MoneyRow",
    models.Payment,
    models.PaymentPlan,
    models.Promise,
    models.Settlement,
    models.PaymentReversal,
)
# What ``add`` records in one row (a plan comes with its installments: ``add_plan``).
Recorded = models.Payment | models.Promise | models.Settlement | models.PaymentReversal


class PaymentRepository(Protocol):
    """Payments and the arrangements they pay. Rows read here belong to the transaction:
    a use case updates them in place and the commit writes them."""

    async def get(self, model: type[MoneyRow], key: str) -> MoneyRow | None:
        """The row of ``model`` with that key (a reversal's is its payment's id)."""
        ...

    async def add(self, row: Recorded) -> None: ...

    async def add_plan(
        self, plan: models.PaymentPlan, installments: Sequence[models.PlanInstallment] = ()
    ) -> None: ...

    async def payments_of(self, account_id: str) -> Sequence[models.Payment]: ...

    async def plans_of(self, account_id: str) -> Sequence[models.PaymentPlan]: ...

    async def installments_of(self, account_id: str) -> Sequence[models.PlanInstallment]: ...

    async def promises_of(self, account_id: str) -> Sequence[models.Promise]: ...

    async def settlements_of(self, account_id: str) -> Sequence[models.Settlement]: ...

    async def reversals_of(self, account_id: str) -> Sequence[models.PaymentReversal]: ...

    async def accounts_due(self, before: date, grace_days: int, limit: int) -> Sequence[str]:
        """Accounts with an arrangement whose date may have passed (a superset)."""
        ...

    async def try_lock(self, account_id: str) -> models.Account | None:
        """The account row-locked, or None when another transaction holds its lock."""
        ...


class ImportRepository(Protocol):
    """An import's staging area inside the transaction, and the set-based merge from it."""

    async def stage(
        self, rows: Sequence[ImportedAccount], at: datetime, opened_by: str | None = None
    ) -> None:
        """A batch of valid rows, in file order. Its new accounts may be opened at once
        (``opened_by``: the importer's principal), their ``AccountOpened`` queued: the
        transaction is rolled back if the file turns out bad."""
        ...

    async def staged_errors(self, limit: int) -> tuple[list[RowError], int]:
        """An account or debt id twice in the file, a debt another account holds: the
        first ``limit`` errors by row, and their count."""
        ...

    async def take_rebalanced(self) -> list[tuple[ImportedAccount, StoredAccount]]:
        """Staged accounts whose payments moved the balance while the file names another
        imported balance: row-locked and taken out of staging, for the domain's plan."""
        ...

    async def merge(self, at: datetime) -> tuple[int, int]:
        """(opened, updated): changed accounts rewritten at revision + 1, new ones inserted
        (if ``stage`` did not) with their ``AccountOpened`` queued. Raises ``Conflict``
        when another transaction created one of them meanwhile."""
        ...

    def updated(self, batch: int) -> AsyncIterator[list[AccountChange]]:
        """What ``merge`` rewrote, in file order, for its ``AccountUpdated`` events."""
        ...

    async def update_accounts(self, rows: Sequence[AccountRow]) -> None: ...


class CommunicationRepository(Protocol):
    async def seen_events(self, group: str, ce_ids: Sequence[str]) -> set[str]: ...

    async def claim_events(self, group: str, ce_ids: Sequence[str], at: datetime) -> set[str]:
        """Record these ids as processed by ``group``; returns those not processed before."""
        ...

    async def append_events(self, rows: Sequence[EventRow], at: datetime) -> set[str]:
        """Append to the audit trail; returns the ce_ids that were new."""
        ...

    async def upsert_decisions(self, folds: Iterable[DecisionFold], at: datetime) -> None: ...

    async def upsert_deliveries(self, folds: Iterable[DeliveryFold], at: datetime) -> None: ...

    async def upsert_flags(self, changes: Iterable[FlagChange], at: datetime) -> None: ...

    async def open_dispute(self, dispute: models.Dispute) -> None: ...

    async def record_author(self, ce_id: str, by: str) -> None:
        """Who entered this signal (an API key's principal), on its event and dispute."""
        ...

    async def verify_disputes(
        self, account_id: str, debt_id: str | None, at: datetime, by: str
    ) -> None: ...

    async def flags_of(self, account_id: str) -> Sequence[models.ConsumerFlag]: ...

    async def active_pauses(self) -> Sequence[tuple[str, str, str | None]]:
        """(account id, signal id, ``details.until``) of every account an operator paused."""
        ...

    async def disputes_of(self, account_id: str) -> Sequence[models.Dispute]: ...

    async def log_of(self, account_id: str) -> Sequence[models.CommunicationLog]: ...

    async def get_step(self, step_id: str) -> models.CommunicationLog | None: ...

    async def events_of_step(self, step_id: str) -> Sequence[models.CommunicationEvent]: ...

    async def get_event(self, ce_id: str) -> models.CommunicationEvent | None: ...

    async def events_of(self, account_id: str) -> Sequence[models.CommunicationEvent]: ...


class KeyRepository(Protocol):
    async def get_key(self, key_id: str, *, for_update: bool = False) -> models.ApiKey | None: ...

    async def add_key(self, key: models.ApiKey) -> None: ...

    async def revoke_key(self, key_id: str, at: datetime, by: str) -> None: ...

    async def all_keys(self) -> Sequence[models.ApiKey]: ...


class TaskRepository(Protocol):
    """Agent tasks; a task read ``for_update`` is row-locked and updated in place."""

    async def add_task(self, task: AgentTask) -> bool:
        """Insert unless a task of the same ``source_event_id`` exists; whether it was new."""
        ...

    async def get_task(self, task_id: str, *, for_update: bool = False) -> AgentTask | None: ...

    async def add_change(self, change: AgentTaskChange) -> None: ...

    async def changes_of(self, account_id: str) -> Sequence[AgentTaskChange]: ...

    async def list_tasks(self, q: TaskQuery, now: datetime) -> Sequence[AgentTask]:
        """Up to ``q.limit + 1`` matching tasks after the cursor, by (due_at, task_id)."""
        ...


class PortfolioRepository(Protocol):
    async def figure_counts(self, since: datetime, until: datetime) -> FigureCounts:
        """Grouped counts over every account; payments received in [since, until)."""
        ...


class Outbox(Protocol):
    async def announce(self, envelopes: Sequence[Envelope]) -> None:
        """Queue events for Kafka; they are published once the transaction commits."""
        ...

    async def announce_record(self, topic: str, key: bytes, value: bytes) -> None:
        """Queue one already-encoded record that is not an event, the same way."""
        ...

    async def backlog(self) -> tuple[int, datetime | None]:
        """Unpublished rows and when the oldest was written."""
        ...


class Published(Protocol):
    """Whether what the ledger committed for an account has reached Kafka."""

    async def published(self, key: str) -> bool:
        """Wait until no record queued for ``key`` is unpublished: True then, False if a
        bound passed first (the records stay queued and go out later)."""
        ...


class ChannelsApplied(Protocol):
    """Whether the channel workers have applied the signals published for an account."""

    async def applied(self, key: str) -> bool:
        """Wait until every channel worker reading ``key``'s signals has applied those
        published so far (suppressions set, calls they came too late for ended): True
        then, False if a bound passed first (they are applied later all the same)."""
        ...


class Transaction(Protocol):
    """One unit of work: the repositories share it; nothing stays unless ``commit`` runs."""

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def imports(self) -> ImportRepository: ...

    @property
    def communications(self) -> CommunicationRepository: ...

    @property
    def keys(self) -> KeyRepository: ...

    @property
    def portfolio(self) -> PortfolioRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    async def commit(self) -> None: ...


class Transactions(Protocol):
    """Opens transactions; a lost database raises ``Unavailable``."""

    def __call__(self) -> AbstractAsyncContextManager[Transaction]: ...


class RowChecks(Protocol):
    """Where an import's rows are validated: this process's threads or a process pool."""

    in_flight: int  # batches handed out before the oldest must be taken back

    async def check(self, items: Sequence[ReadItem]) -> CheckedRows: ...


@dataclass(eq=False)
class UseCase:
    """What every use case works with: the transactions it reads and writes in, and the
    clock its "now" comes from."""

    transactions: Transactions
    clock: Clock
