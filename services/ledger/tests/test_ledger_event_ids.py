"""payments.v1 event ids: one ``ce_id`` per occurrence, the same one on a retry.

Subscribers deduplicate on ``ce_id``; an arrangement that ends again after a reversal
reopened it (a plan completed twice, a promise kept twice, an account settled and reopened
twice) is a new occurrence and must not be taken for a redelivery of the first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import pytest
from dunning_core.contracts.common import Event
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.payments import (
    AccountReopened,
    AccountSettled,
    PaymentReversed,
    PlanCompleted,
    PromiseKept,
)
from dunning_core.runtime.clock import FixedClock
from dunning_testkit.ledger import memory_ledger_client
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
E = TypeVar("E", bound=Event)


@pytest.fixture
async def http(memory: MemoryLedger) -> AsyncIterator[httpx.AsyncClient]:
    async with memory_ledger_client(memory, FixedClock(T0)) as client:
        yield client


def announced(memory: MemoryLedger, kind: type) -> list[Envelope]:
    return [e for e in memory.tables.outbox if isinstance(e.data, kind)]


def payloads(envelopes: list[Envelope], kind: type[E]) -> list[E]:
    """The events of ``announced(memory, kind)``, typed as ``kind``."""
    return [e.data for e in envelopes if isinstance(e.data, kind)]


async def pay(http: httpx.AsyncClient, account: str, payment_id: str, amount: str) -> None:
    body = {"payment_id": payment_id, "amount": amount}
    response = await http.post(f"/v1/accounts/{account}/payments", json=body)
    assert response.status_code == 201, response.text


async def reverse(http: httpx.AsyncClient, account: str, payment_id: str) -> None:
    url = f"/v1/accounts/{account}/payments/{payment_id}/reversal"
    response = await http.post(url, json={"reason": "nsf"})
    assert response.status_code == 201, response.text


async def test_a_plan_completed_again_after_a_reversal_is_a_new_event(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    plan = {"plan_id": "PL1", "offer_id": "monthly-2"}
    assert (await http.post("/v1/accounts/A1/plans", json=plan)).status_code == 201
    await pay(http, "A1", "P1", "100")
    await reverse(http, "A1", "P1")
    await pay(http, "A1", "P2", "100")
    await reverse(http, "A1", "P2")
    await pay(http, "A1", "P3", "100")

    completed = announced(memory, PlanCompleted)
    assert [d.by_payment_id for d in payloads(completed, PlanCompleted)] == ["P1", "P2", "P3"]
    assert len({e.id for e in completed}) == 3
    settled = announced(memory, AccountSettled)
    assert [d.by_payment_id for d in payloads(settled, AccountSettled)] == ["P1", "P2", "P3"]
    assert len({e.id for e in settled}) == 3
    reopened = announced(memory, AccountReopened)
    assert [d.by_payment_id for d in payloads(reopened, AccountReopened)] == ["P1", "P2"]
    assert len({e.id for e in reopened}) == 2
    assert len(announced(memory, PaymentReversed)) == 2
    # A subscriber dedupes on the id it can derive from the body: it is the ce_id.
    assert all(e.id == e.data.default_event_id() for e in memory.tables.outbox)


async def test_a_promise_kept_again_after_a_reversal_is_a_new_event(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    body = {"promise_id": "PR1", "amount_minor": 3000, "due_on": "2026-03-20"}
    assert (await http.post("/v1/accounts/A2/promises", json=body)).status_code == 201
    await pay(http, "A2", "P1", "30")
    await reverse(http, "A2", "P1")
    await pay(http, "A2", "P2", "30")
    kept = announced(memory, PromiseKept)
    assert [d.payment_id for d in payloads(kept, PromiseKept)] == ["P1", "P2"]
    assert kept[0].id != kept[1].id


async def test_every_id_is_unique_and_a_retry_announces_nothing_new(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    plan = {"plan_id": "PL1", "offer_id": "monthly-2"}
    assert (await http.post("/v1/accounts/A1/plans", json=plan)).status_code == 201
    body = {"promise_id": "PR1", "amount_minor": 3000, "due_on": "2026-03-20"}
    assert (await http.post("/v1/accounts/A2/promises", json=body)).status_code == 201
    for account in ("A1", "A2"):
        await pay(http, account, f"{account}-1", "100")
        await reverse(http, account, f"{account}-1")
        await pay(http, account, f"{account}-2", "100")
    before = [e.id for e in memory.tables.outbox]
    # Retries of the same requests: replays, nothing announced again.
    retry = {"payment_id": "A1-2", "amount": "100"}
    assert (await http.post("/v1/accounts/A1/payments", json=retry)).status_code == 200
    url = "/v1/accounts/A1/payments/A1-1/reversal"
    assert (await http.post(url, json={"reason": "nsf"})).status_code == 200
    assert (await http.post("/v1/accounts/A1/plans", json=plan)).status_code == 200
    ids = [e.id for e in memory.tables.outbox]
    assert ids == before
    assert [i for i, n in Counter(ids).items() if n > 1] == []
