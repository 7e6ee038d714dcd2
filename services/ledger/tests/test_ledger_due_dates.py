"""The due-date pass: installments missed, plans broken, promises broken, settlements
lapsed, each announced once; in memory, then two replicas at once against PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dunning_core.contracts.payments import (
    InstallmentMissed,
    PlanBroken,
    PromiseBroken,
    SettlementLapsed,
)
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.errors import Unavailable
from dunning_ledger.money.overdue import DueDatePass
from dunning_ledger.terms import load_terms
from dunning_testkit.ledger import (
    UNREACHABLE,
    import_row,
    ledger_client,
    read_topic,
    required_row,
    settings_for,
)
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TERMS = load_terms()  # grace 5 days, the second miss breaks the plan
PLAN = {"plan_id": "PL", "frequency": "weekly", "first_due": "2026-03-02", "count": 4}
PROMISE = {"promise_id": "PR", "amount_minor": 2000, "due_on": "2026-03-05"}
SETTLEMENT = {"settlement_id": "S", "amount_minor": 6000, "pay_by": "2026-03-06"}


async def agreed(http: httpx.AsyncClient, account: str, n: int = 1) -> None:
    plan, promise = {**PLAN, "plan_id": f"PL{n}"}, {**PROMISE, "promise_id": f"PR{n}"}
    for path, body in (("plans", plan), ("promises", promise)):
        response = await http.post(f"/v1/accounts/{account}/{path}", json=body)
        assert response.status_code == 201, response.text
    other = f"/v1/accounts/{account[:-1]}{n + 1}/settlements"
    response = await http.post(other, json={**SETTLEMENT, "settlement_id": f"S{n}"})
    assert response.status_code == 201, response.text


async def test_dates_passing_are_announced_once(caplog: pytest.LogCaptureFixture) -> None:
    memory, clock = MemoryLedger(), FixedClock(T0)
    app = build_ledger(LedgerSettings(database_url=UNREACHABLE), clock, memory).app
    due = DueDatePass(memory, clock, TERMS)
    async with ledger_client(app) as http:
        rows = {"accounts": [required_row(1), required_row(2)]}
        assert (await http.post("/v1/accounts/import", json=rows)).status_code == 200
        await agreed(http, "A1")
        await http.post("/v1/accounts/A1/payments", json={"payment_id": "P1", "amount": "10"})
        assert await due.pass_once() == 0
        clock.advance(timedelta(days=7))  # the 9th: seq 1 (due the 2nd) is missed
        assert await due.pass_once() == 3  # + the promise broken + the settlement lapsed
        assert await due.pass_once() == 0
        clock.advance(timedelta(days=5))  # the 14th: seq 2 (due the 9th) is within grace
        assert await due.pass_once() == 0
        clock.advance(timedelta(days=1))  # the 15th: seq 2 missed breaks the plan
        assert await due.pass_once() == 2
        assert await due.pass_once() == 0
        money = (await http.get("/v1/accounts/A1/money")).json()
        timeline = (await http.get("/v1/accounts/A1/timeline")).json()["entries"]
        lapsed = (await http.get("/v1/accounts/A2/money")).json()
    data = [e.data for e in memory.tables.outbox]
    missed = [e for e in data if isinstance(e, InstallmentMissed)]
    assert [(e.seq, e.missed_count, e.amount_paid.amount_minor) for e in missed] == [
        (1, 1, 1000),
        (2, 2, 0),
    ]
    (broken,) = [e for e in data if isinstance(e, PlanBroken)]
    assert (broken.missed_count, broken.remaining_balance.amount_minor) == (2, 9000)
    (promise,) = [e for e in data if isinstance(e, PromiseBroken)]
    assert promise.amount_paid.amount_minor == 1000
    (settlement,) = [e for e in data if isinstance(e, SettlementLapsed)]
    assert (settlement.account_id, settlement.settlement_id, str(settlement.pay_by)) == (
        "A2", "S1", SETTLEMENT["pay_by"],
    )  # fmt: skip
    assert (settlement.amount.amount_minor, settlement.amount_paid.amount_minor) == (6000, 0)
    assert settlement.remaining_balance.amount_minor == 10000
    assert money["plans"][0]["status"] == "broken"
    assert [i["status"] for i in money["plans"][0]["installments"]] == [
        "missed", "missed", "due", "due",
    ]  # fmt: skip
    assert money["promises"][0]["status"] == "broken"
    assert lapsed["settlements"][0]["status"] == "lapsed"
    assert [e["summary"] for e in timeline if e["kind"] in ("installment", "plan")][-3:] == [
        "installment 1 of plan PL1 missed: 25.00 USD due 2026-03-02, 10.00 USD paid",
        "installment 2 of plan PL1 missed: 25.00 USD due 2026-03-09, 0.00 USD paid",
        "plan PL1 broken",
    ]
    assert {e["by"] for e in timeline if e["kind"] == "installment"} == {"ledger"}  # not a key

    class Down:
        def __call__(self) -> Any:
            raise Unavailable("the database is unreachable")

    failing = DueDatePass(Down(), clock, TERMS, interval=0.01)
    with caplog.at_level(logging.INFO, logger="dunning_ledger.money.overdue"):
        task = asyncio.create_task(failing.run())
        await asyncio.sleep(0.1)
        failing.transactions = memory
        await asyncio.sleep(0.05)
        await failing.stop()
        await task
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("due-date pass failed, retrying") == 1
    assert messages.count("due-date pass recovered") == 1
    assert failing.stats.failures > 1


@pytest.fixture
async def replicas(topics: str, database: str) -> AsyncIterator[list[Any]]:
    """Two ledgers on one database, on one fixed clock, their passes driven by the test."""
    clock = FixedClock(T0)
    built = [
        build_ledger(settings_for(topics, database, due_pass=False, consume=False), clock)
        for _ in range(2)
    ]
    async with contextlib.AsyncExitStack() as stack:
        for ledger in built:
            await ledger.runtime.start()
            stack.push_async_callback(ledger.runtime.stop)
        yield [clock, *built]


@pytest.mark.integration
async def test_two_replicas_passing_at_once_announce_each_miss_once(
    replicas: list[Any], topics: str
) -> None:
    clock, one, two = replicas
    async with ledger_client(one.app) as http:
        rows = [import_row(n, balance="100.00") for n in range(1, 9)]
        assert (await http.post("/v1/accounts/import", json={"accounts": rows})).status_code == 200
        for n in range(1, 9, 2):
            await agreed(http, f"ACC-00000{n}", n)
    clock.advance(timedelta(days=15))
    counts = await asyncio.gather(*(r.due_dates.pass_once() for r in (one, two, one, two)))
    # 4 accounts: 2 installments missed + plan broken + promise broken = 4 events each;
    # 4 others: their settlement lapsed.
    assert sum(counts) == 20
    assert await one.due_dates.pass_once() == 0
    await one.relay.drain()
    await two.relay.drain()
    events = await read_topic(topics + "payments.v1", at_least=20 + 3 * 4)  # + agreements
    missed = [e.data for e in events if isinstance(e.data, InstallmentMissed)]
    assert len(missed) == 8
    assert len([e for e in events if isinstance(e.data, SettlementLapsed)]) == 4
    assert len({e.id for e in events}) == len(events)
