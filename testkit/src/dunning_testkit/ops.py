"""Fakes of the operations dashboard's ports (services/ops), for its unit tests.

``FakeKeys`` knows a key per role (``KEYS``); the other fakes answer as the services' APIs do,
from data the test sets, and record what they were sent (with the key that sent it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dunning_core.contracts.access import Principal, Role
from dunning_core.runtime.auth import unauthorized
from dunning_ops.bootstrap import Ports, build
from dunning_ops.config import OpsSettings
from dunning_ops.ports import DeadLetter, DeadQueue, Health, Sample, Upstream
from dunning_ops.service import Upstreams
from fastapi import FastAPI

KEYS = {role: f"dun_{n:012x}_{'s' * 24}" for n, role in enumerate(Role, start=1)}


class FakeKeys:
    def __init__(self) -> None:
        self.revoked: set[str] = set()

    async def verify(self, key: str | None) -> Principal:
        for role, known in KEYS.items():
            if key == known and key not in self.revoked:
                return Principal(
                    key_id=f"{list(Role).index(role) + 1:012x}", name=f"ops-{role.value}", role=role
                )
        raise unauthorized("unknown API key")


FIGURES: dict[str, Any] = {
    "accounts_by_status": {"open": 7, "paid": 3},
    "accounts_by_stage": {"urgency": 4, "friendly_reminder": 5, "none": 1},
    "collected_per_day": [
        {"day": "2026-03-02", "currency": "USD", "payments": 2, "amount": "150.00",
         "amount_minor": 15000},
        {"day": "2026-03-04", "currency": "USD", "payments": 1, "amount": "50.00",
         "amount_minor": 5000},
    ],
    "collected_since": "2026-03-01",
    "collected_until": "2026-03-05",
    "messages_by_channel_and_outcome": {
        "sms": {"delivered": 6, "failed": 2, "block": 1},
        "email": {"delivered": 3, "sent": 4},
    },
    "decisions_by_rule": {"time.quiet_hours": {"defer": 5}, "consent.opt_out": {"block": 2}},
    "messaged_accounts": 8,
    "accounts_with_signal": {"opt_out": 1, "complaint": 0, "dispute": 2},
    "opt_out_rate": 0.125,
    "complaint_rate": 0.0,
    "dispute_rate": 0.25,
    "promises_judged": 4,
    "promises_kept": 3,
    "promise_kept_rate": 0.75,
    "omitted": {},
}  # fmt: skip


@dataclass
class FakeLedger:
    figures_body: dict[str, Any] = field(default_factory=lambda: dict(FIGURES))
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    timelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    keys_seen: list[str] = field(default_factory=list)

    async def figures(self, key: str, days: int) -> dict[str, Any]:
        self.keys_seen.append(key)
        return self.figures_body

    async def search(self, key: str, filters: dict[str, str]) -> dict[str, Any]:
        self.keys_seen.append(key)
        name = filters.get("name", "").lower()
        hits = [a for a in self.accounts.values()
                if name in str(a["consumer"].get("full_name", "")).lower()]  # fmt: skip
        return {
            "accounts": [
                {"account_id": a["account_id"], "full_name": a["consumer"]["full_name"],
                 "state": a["consumer"].get("state", ""), "status": a["status"],
                 "balance": a["balance"], "due_date": None, "days_past_due": None,
                 "phones": [], "emails": []}
                for a in hits
            ],
            "next_cursor": None,
            "as_of": "2026-03-05",
        }  # fmt: skip

    def _known(self, account_id: str) -> dict[str, Any]:
        if account_id not in self.accounts:
            raise Upstream(404, {"error": "not_found", "message": f"no account {account_id}"})
        return self.accounts[account_id]

    async def account(self, key: str, account_id: str) -> dict[str, Any]:
        self.keys_seen.append(key)
        return self._known(account_id)

    async def timeline(self, key: str, account_id: str) -> dict[str, Any]:
        self._known(account_id)
        return self.timelines.get(account_id, {"account_id": account_id, "entries": []})

    async def communications(self, key: str, account_id: str) -> dict[str, Any]:
        self._known(account_id)
        return {"account_id": account_id, "steps": []}

    async def post(self, key: str, account_id: str, what: str, body: dict[str, Any]) -> Any:
        self._known(account_id)
        self.posted.append((key, account_id, what, body))
        return {"ok": True}


@dataclass
class FakeGate:
    answer: dict[str, Any] = field(
        default_factory=lambda: {"action": "allow", "findings": [], "not_before": None}
    )
    asked: list[dict[str, Any]] = field(default_factory=list)

    async def evaluate(self, key: str, request: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(request)
        return self.answer


@dataclass
class FakeScheduler:
    body: dict[str, Any] = field(default_factory=dict)

    async def stats(self, key: str) -> dict[str, Any]:
        return self.body


@dataclass
class FakeProbes:
    healths: list[Health] = field(default_factory=list)
    found: list[Sample] = field(default_factory=list)

    async def health(self) -> list[Health]:
        return self.healths

    async def samples(self) -> list[Sample]:
        return self.found


@dataclass
class FakeDeadLetters:
    parked: dict[str, list[DeadLetter]] = field(default_factory=dict)
    replayed: list[tuple[str, int, int]] = field(default_factory=list)

    async def queues(self) -> list[DeadQueue]:
        return [DeadQueue(t, len(v)) for t, v in sorted(self.parked.items())]

    async def letters(self, topic: str, limit: int) -> list[DeadLetter]:
        return self.parked.get(topic, [])[:limit]

    async def replay(self, topic: str, partition: int, offset: int) -> str:
        self.replayed.append((topic, partition, offset))
        return topic.removesuffix(".dlq")


@dataclass
class FakeSessionStore:
    """The sessions' store in memory; an entry is gone at its ``expires_at`` by ``now``."""

    now: Callable[[], float] = time.time
    values: dict[str, tuple[bytes, float]] = field(default_factory=dict)

    async def put(self, key: str, value: bytes, expires_at: float) -> None:
        self.values[key] = (value, expires_at)

    async def get(self, key: str) -> bytes | None:
        held = self.values.get(key)
        if held is None or held[1] <= self.now():
            self.values.pop(key, None)
            return None
        return held[0]

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)


@dataclass
class OpsFakes:
    """Every port of the dashboard faked; a test gives the ones it sets or looks at."""

    keys: FakeKeys = field(default_factory=FakeKeys)
    ledger: FakeLedger = field(default_factory=FakeLedger)
    gate: FakeGate = field(default_factory=FakeGate)
    scheduler: FakeScheduler = field(default_factory=FakeScheduler)
    probes: FakeProbes = field(default_factory=FakeProbes)
    dead_letters: FakeDeadLetters = field(default_factory=FakeDeadLetters)
    sessions: FakeSessionStore | None = field(default_factory=FakeSessionStore)  # None: Redis

    def app(self, settings: OpsSettings | None = None) -> FastAPI:
        """The dashboard over these fakes."""
        upstreams = Upstreams(
            self.ledger, self.gate, self.scheduler, self.probes, self.dead_letters
        )
        return build(
            settings or OpsSettings(session_key="a-session-key-for-tests"),
            Ports(self.keys, upstreams, self.sessions),
        )
