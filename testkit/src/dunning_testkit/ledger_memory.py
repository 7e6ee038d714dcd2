"""In-memory fakes of the ledger's ports, for use-case tests without PostgreSQL.

``MemoryLedger`` implements ``dunning_ledger.ports.Transactions`` over dicts: a use case
sees a copy of the tables and its changes stay only if it commits, as with PostgreSQL
(last commit wins; no row locks).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from dunning_core.contracts.envelope import Envelope
from dunning_ledger.domain.communications import DecisionFold, DeliveryFold
from dunning_ledger.domain.figures import (
    NO_STAGE,
    RATE_KINDS,
    FigureCounts,
    PromiseFacts,
    promised_date,
)
from dunning_ledger.domain.flags import FlagChange
from dunning_ledger.domain.search import AccountQuery
from dunning_ledger.domain.summary import SummaryCounts
from dunning_ledger.models import (
    Account,
    AccountChangeRecord,
    AccountNote,
    ApiKey,
    CommunicationEvent,
    CommunicationLog,
    ConsumerFlag,
    Dispute,
    Payment,
    PaymentPlan,
)
from dunning_ledger.ports import BalanceChange, EventRow
from dunning_testkit.ledger_memory_imports import MemoryImports
from dunning_testkit.ledger_money import MemoryPayments, MoneyTables
from dunning_testkit.ledger_tasks import MemoryTasks, TaskTables


@dataclass
class Tables:
    accounts: dict[str, Account] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    plans: dict[str, PaymentPlan] = field(default_factory=dict)
    flags: list[ConsumerFlag] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    processed: set[tuple[str, str]] = field(default_factory=set)
    outbox: list[Envelope] = field(default_factory=list)
    commits: int = 0
    keys: dict[str, ApiKey] = field(default_factory=dict)
    records: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # not events
    authors: dict[str, str] = field(default_factory=dict)  # ce_id -> recorded_by
    changes: list[AccountChangeRecord] = field(default_factory=list)
    notes: list[AccountNote] = field(default_factory=list)
    money: MoneyTables = field(default_factory=MoneyTables)
    tasks: TaskTables = field(default_factory=TaskTables)

    def copy(self) -> Tables:
        return Tables(
            dict(self.accounts), dict(self.payments), dict(self.plans), list(self.flags),
            list(self.disputes), list(self.events), set(self.processed), list(self.outbox),
            self.commits, dict(self.keys), list(self.records), dict(self.authors),
            list(self.changes), list(self.notes), self.money.copy(), self.tasks.copy(),
        )  # fmt: skip


def account_row(values: Mapping[str, Any]) -> Account:
    """A detached ``Account`` row with these column values (the others left unset)."""
    columns = {c.key for c in Account.__table__.columns}
    return Account(**{k: v for k, v in values.items() if k in columns})


def _columns(account: Account) -> dict[str, Any]:
    return {c.key: getattr(account, c.key) for c in Account.__table__.columns}


def _matches(a: Account, q: AccountQuery) -> bool:
    c, due = a.consumer, a.debt["due_date"]
    checks = (
        q.account_id is None or a.account_id == q.account_id,
        q.after is None or a.account_id > q.after,
        q.name is None or q.name in c["full_name"].lower(),
        q.phone is None or q.phone in [p["number"] for p in c.get("phones", ())],
        q.email is None or q.email in [e["address"] for e in c.get("emails", ())],
        q.state is None or c["state"] == q.state,
        q.status is None or a.status == q.status,
        q.stage is None,
        q.currency is None or a.currency == q.currency,
        q.balance_min_minor is None or a.balance_minor >= q.balance_min_minor,
        q.balance_max_minor is None or a.balance_minor <= q.balance_max_minor,
        q.due_on_or_before is None or due <= q.due_on_or_before.isoformat(),
        q.due_on_or_after is None or due >= q.due_on_or_after.isoformat(),
    )
    return all(checks)


class MemoryAccounts:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def get(self, account_id: str, *, for_update: bool = False) -> Account | None:
        return self.t.accounts.get(account_id)

    async def set_balance(self, account_id: str, change: BalanceChange) -> None:
        values = _columns(self.t.accounts[account_id])
        self.t.accounts[account_id] = account_row({**values, **change.columns()})

    async def save_snapshot(
        self, account_id: str, *, revision: int, consumer: str, debt: str, at: datetime
    ) -> None:
        values = _columns(self.t.accounts[account_id])
        values.update(revision=revision, consumer=orjson.loads(consumer), debt=orjson.loads(debt))
        self.t.accounts[account_id] = account_row({**values, "updated_at": at})

    async def add_change(self, change: AccountChangeRecord) -> None:
        change.id = len(self.t.changes) + 1
        self.t.changes.append(change)

    async def changes_of(self, account_id: str) -> Sequence[AccountChangeRecord]:
        return [c for c in self.t.changes if c.account_id == account_id]

    async def add_note(self, note: AccountNote) -> None:
        self.t.notes.append(note)

    async def notes_of(self, account_id: str) -> Sequence[AccountNote]:
        return [n for n in self.t.notes if n.account_id == account_id]

    async def search(self, query: AccountQuery) -> Sequence[Account]:
        """The SQL search's meaning, row by row (stage: no log here, so nothing matches)."""
        return [
            a
            for a in sorted(self.t.accounts.values(), key=lambda a: a.account_id)
            if _matches(a, query)
        ][: query.limit + 1]

    async def summary_counts(self) -> SummaryCounts:
        by_status: dict[str, int] = {}
        for a in self.t.accounts.values():
            by_status[a.status] = by_status.get(a.status, 0) + 1
        return SummaryCounts(accounts_by_status=by_status, outbox_pending=len(self.t.outbox))

    async def ping(self) -> None:
        return None


class MemoryCommunications:
    """Keeps what it is given; folds are recorded as given, not merged into a log."""

    def __init__(self, tables: Tables) -> None:
        self.t = tables
        self.decisions: list[DecisionFold] = []
        self.deliveries: list[DeliveryFold] = []
        self.flag_changes: list[FlagChange] = []

    async def seen_events(self, group: str, ce_ids: Sequence[str]) -> set[str]:
        return {i for i in ce_ids if (group, i) in self.t.processed}

    async def claim_events(self, group: str, ce_ids: Sequence[str], at: datetime) -> set[str]:
        new = {i for i in ce_ids if (group, i) not in self.t.processed}
        self.t.processed |= {(group, i) for i in new}
        return new

    async def append_events(self, rows: Sequence[EventRow], at: datetime) -> set[str]:
        known = {e.ce_id for e in self.t.events}
        new = [r for r in rows if r.ce_id not in known]
        self.t.events += new
        return {r.ce_id for r in new}

    async def upsert_decisions(self, folds: Iterable[DecisionFold], at: datetime) -> None:
        self.decisions += folds

    async def upsert_deliveries(self, folds: Iterable[DeliveryFold], at: datetime) -> None:
        self.deliveries += folds

    async def upsert_flags(self, changes: Iterable[FlagChange], at: datetime) -> None:
        changes = list(changes)
        self.flag_changes += changes
        for c in changes:  # as the table's upsert: one row per (account, flag, scope), latest
            key = (c.account_id, c.flag, c.scope)
            held = [f for f in self.t.flags if (f.account_id, f.flag, f.scope) == key]
            if held and held[0].changed_at > c.changed_at:
                continue
            self.t.flags = [f for f in self.t.flags if (f.account_id, f.flag, f.scope) != key]
            self.t.flags.append(ConsumerFlag(
                account_id=c.account_id, flag=c.flag, scope=c.scope, active=c.active,
                changed_at=c.changed_at, signal_id=c.signal_id, kind=c.kind, source=c.source,
                channel=c.channel, detail=c.detail, recorded_at=at,
            ))  # fmt: skip

    async def open_dispute(self, dispute: Dispute) -> None:
        self.t.disputes.append(dispute)

    async def record_author(self, ce_id: str, by: str) -> None:
        self.t.authors[ce_id] = by
        for d in self.t.disputes:
            if d.dispute_id == ce_id:
                d.recorded_by = by

    async def verify_disputes(
        self, account_id: str, debt_id: str | None, at: datetime, by: str
    ) -> None:
        for d in self.t.disputes:
            if d.account_id == account_id and d.verified_at is None and d.opened_at <= at:
                d.verified_at, d.verified_by = at, by

    async def flags_of(self, account_id: str) -> Sequence[ConsumerFlag]:
        return [f for f in self.t.flags if f.account_id == account_id]

    async def active_pauses(self) -> Sequence[tuple[str, str, str | None]]:
        found = []
        for f in self.t.flags:
            if f.flag != "outreach_paused" or not f.active:
                continue
            for e in self.t.events:
                payload = orjson.loads(e.payload) if e.kind == "signal" else {}
                if e.account_id == f.account_id and payload.get("signal_id") == f.signal_id:
                    found.append((f.account_id, f.signal_id, payload["details"].get("until")))
        return found

    async def disputes_of(self, account_id: str) -> Sequence[Dispute]:
        return [d for d in self.t.disputes if d.account_id == account_id]

    async def log_of(self, account_id: str) -> Sequence[CommunicationLog]:
        return []

    async def get_step(self, step_id: str) -> CommunicationLog | None:
        return None

    async def events_of_step(self, step_id: str) -> Sequence[CommunicationEvent]:
        return []

    async def get_event(self, ce_id: str) -> CommunicationEvent | None:
        return None

    async def events_of(self, account_id: str) -> Sequence[CommunicationEvent]:
        return [
            CommunicationEvent(
                **{**asdict(r), "payload": orjson.loads(r.payload)},
                id=n,
                recorded_at=r.occurred_at,
                recorded_by=self.t.authors.get(r.ce_id),
            )
            for n, r in enumerate(self.t.events, 1)
            if r.account_id == account_id
        ]


class MemoryPortfolio:
    """The figures' counts from the tables kept here (no communication log: no stages)."""

    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def figure_counts(self, since: datetime, until: datetime) -> FigureCounts:
        by_status = Counter(a.status for a in self.t.accounts.values())
        collected: dict[tuple[date, str], list[int]] = {}
        for p in self.t.payments.values():
            if since <= p.received_at < until:
                day = collected.setdefault((p.received_at.astimezone(UTC).date(), p.currency), [])
                day.append(p.amount_minor)
        rules: Counter[tuple[str, str]] = Counter()
        for e in self.t.events:
            if e.kind == "decision":
                for f in orjson.loads(e.payload).get("findings", []):
                    rules[(f["rule_id"], f["action"])] += 1
        messaged = {e.account_id for e in self.t.events if e.kind == "delivery"}
        signalled = [(e.outcome, e.account_id) for e in self.t.events if e.kind == "signal"]
        promises = [
            PromiseFacts(p.due_on, p.amount_minor, p.paid_minor, p.status != "open")
            for p in self.t.money.promises.values()
        ]
        for e in self.t.events:
            if e.kind == "signal" and e.outcome == "promised_to_pay":
                due = promised_date(orjson.loads(e.payload).get("details", {}).get("date"))
                after = sorted(
                    (p.received_at, p.amount_minor)
                    for p in self.t.payments.values()
                    if p.account_id == e.account_id and p.received_at >= e.occurred_at
                )
                kept = bool(after and due and after[0][0].astimezone(UTC).date() <= due)
                promises.append(PromiseFacts(due, None, after[0][1] if kept else 0))
        return FigureCounts(
            promises=promises,
            accounts_by_status=dict(by_status),
            accounts_by_stage={NO_STAGE: len(self.t.accounts)} if self.t.accounts else {},
            collected=[(d, c, len(v), sum(v)) for (d, c), v in collected.items()],
            rule_decisions=[(r, a, n) for (r, a), n in rules.items()],
            messaged_accounts=len(messaged),
            rate_accounts={
                name: len({a for kind, a in signalled if kind in kinds})
                for name, kinds in RATE_KINDS.items()
            },
        )


class MemoryOutbox:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def announce(self, envelopes: Sequence[Envelope]) -> None:
        self.t.outbox += envelopes

    async def announce_record(self, topic: str, key: bytes, value: bytes) -> None:
        self.t.records.append((topic, key, value))

    async def backlog(self) -> tuple[int, datetime | None]:
        return len(self.t.outbox), None


class MemoryKeys:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def get_key(self, key_id: str, *, for_update: bool = False) -> ApiKey | None:
        return self.t.keys.get(key_id)

    async def add_key(self, key: ApiKey) -> None:
        self.t.keys[key.key_id] = key

    async def revoke_key(self, key_id: str, at: datetime, by: str) -> None:
        key = self.t.keys[key_id]
        key.revoked_at, key.revoked_by = at, by

    async def all_keys(self) -> Sequence[ApiKey]:
        return sorted(self.t.keys.values(), key=lambda k: (k.created_at, k.key_id))


class MemoryTransaction:
    def __init__(self, ledger: MemoryLedger) -> None:
        self.ledger = ledger
        self.tables = ledger.tables.copy()
        self.accounts = MemoryAccounts(self.tables)
        self.payments = MemoryPayments(self.tables)
        self.imports = MemoryImports(self.tables, account_row)
        self.communications = MemoryCommunications(self.tables)
        self.keys = MemoryKeys(self.tables)
        self.portfolio = MemoryPortfolio(self.tables)
        self.tasks = MemoryTasks(self.tables.tasks)
        self.outbox = MemoryOutbox(self.tables)

    async def commit(self) -> None:
        self.tables.commits += 1
        self.ledger.tables = self.tables.copy()


class MemoryLedger:
    """The ledger's ``Transactions`` port over in-memory tables."""

    def __init__(self) -> None:
        self.tables = Tables()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[MemoryTransaction]:
        yield MemoryTransaction(self)
