"""The money routes over in-memory tables: plans, payments, reversals, promises,
settlements, offers, the money view; idempotency, refusals that write nothing, events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from dunning_core.contracts.events import Event
from dunning_core.contracts.payments import (
    AccountReopened,
    AccountSettled,
    CreditRecorded,
    PaymentReceived,
    PaymentReversed,
    PlanAgreed,
    PlanCompleted,
    PromiseKept,
    PromiseMade,
    SettlementAgreed,
)
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.terms import TermsError
from dunning_testkit.ledger import UNREACHABLE, ledger_client, memory_ledger_client, required_row
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Texas: the consumer's 2 March
TODAY = "2026-03-02"


@pytest.fixture
async def http(memory: MemoryLedger) -> AsyncIterator[httpx.AsyncClient]:
    async with memory_ledger_client(memory, FixedClock(T0)) as client:
        yield client


def events(memory: MemoryLedger, *types: type[Event]) -> list[Any]:
    return [e.data for e in memory.tables.outbox if isinstance(e.data, types)]


async def refused(response: httpx.Response, status: int, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field], body
    return str(body["message"])


async def test_a_plan_from_an_offer_is_paid_off_then_settles_and_a_reversal_reopens(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    offers = (await http.get("/v1/accounts/A1/offers")).json()
    assert offers["balance_minor"] == 10000
    assert "monthly-2" in [o["offer_id"] for o in offers["plan_offers"]]
    assert offers["settlement"]["amount_minor"] == 6000
    body = {"plan_id": "PL1", "offer_id": "monthly-2", "source": "page"}
    agreed = await http.post("/v1/accounts/A1/plans", json=body)
    assert agreed.status_code == 201, agreed.text
    plan = agreed.json()
    assert [(i["due_on"], i["amount_minor"]) for i in plan["installments"]] == [
        (TODAY, 5000),
        ("2026-04-02", 5000),
    ]
    assert (await http.post("/v1/accounts/A1/plans", json=body)).status_code == 200
    other = {**body, "offer_id": "monthly-3"}
    await refused(await http.post("/v1/accounts/A1/plans", json=other), 409)
    (event,) = events(memory, PlanAgreed)
    assert (event.frequency, event.source, [s.amount.amount_minor for s in event.schedule]) == (
        "monthly",
        "page",
        [5000, 5000],
    )
    assert (await http.get("/v1/accounts/A1/offers")).json()["plan_offers"] == []

    first = await http.post("/v1/accounts/A1/payments", json={"payment_id": "P1", "amount": "60"})
    assert first.status_code == 201, first.text
    assert (first.json()["plan_id"], first.json()["installments"]) == ("PL1", [1, 2])
    money = (await http.get("/v1/accounts/A1/money")).json()
    assert [i["status"] for i in money["plans"][0]["installments"]] == ["paid", "partly_paid"]
    second = {"payment_id": "P2", "amount": "45", "source": "processor"}
    assert (await http.post("/v1/accounts/A1/payments", json=second)).status_code == 201
    money = (await http.get("/v1/accounts/A1/money")).json()
    assert (money["status"], money["balance_minor"], money["credit_minor"]) == ("settled", 0, 500)
    assert money["plans"][0]["status"] == "completed"
    assert money["itemization"]["payments_minor"] == 10000
    received = events(memory, PaymentReceived)[1]
    assert (received.credit.amount_minor, received.source) == (500, "processor")
    assert [type(e) for e in events(memory, CreditRecorded, PlanCompleted, AccountSettled)] == [
        CreditRecorded,
        PlanCompleted,
        AccountSettled,
    ]
    assert events(memory, AccountSettled)[0].how == "plan_completed"

    reversal = {"reason": "chargeback", "source": "processor"}
    url = "/v1/accounts/A1/payments/P1/reversal"
    reversed_ = await http.post(url, json=reversal)
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["remaining_balance"]["amount_minor"] == 6000
    assert (await http.post(url, json=reversal)).status_code == 200
    await refused(await http.post(url, json={"reason": "nsf"}), 409)
    money = (await http.get("/v1/accounts/A1/money")).json()
    assert (money["status"], money["balance_minor"]) == ("open", 6000)
    assert money["plans"][0]["status"] == "active"
    assert [i["paid_minor"] for i in money["plans"][0]["installments"]] == [0, 4000]
    assert [p["reversed"] for p in money["payments"]] == [True, False]
    assert [type(e) for e in events(memory, PaymentReversed, AccountReopened)] == [
        PaymentReversed,
        AccountReopened,
    ]
    timeline = (await http.get("/v1/accounts/A1/timeline")).json()["entries"]
    summaries = {e["kind"]: e["summary"] for e in timeline}
    assert summaries["plan"] == "plan agreed: 2 x 50.00 USD from 2026-03-02"  # active again
    assert summaries["credit"] == "credit of 5.00 USD kept: payment P2 went beyond the balance"
    assert summaries["reversal"].startswith("payment P1 of 60.00 USD reversed (chargeback)")


async def test_a_plan_from_its_terms(http: httpx.AsyncClient, memory: MemoryLedger) -> None:
    body = {"plan_id": "PL", "frequency": "weekly", "first_due": TODAY, "count": 3}
    response = await http.post("/v1/accounts/A1/plans", json=body)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert [i["amount_minor"] for i in plan["installments"]] == [3333, 3333, 3334]
    assert plan["total"]["amount_minor"] == 10000
    assert (plan["frequency"], plan["status"]) == ("weekly", "active")
    assert (await http.post("/v1/accounts/A1/plans", json=body)).status_code == 200
    second = {**body, "plan_id": "PL2"}
    await refused(await http.post("/v1/accounts/A1/plans", json=second), 422, "plan_id")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"frequency": "monthly", "count": 3, "installment_minor": 2000}, "count"),  # 5 needed
        ({"frequency": "monthly", "count": 2, "total_minor": 10001}, "total_minor"),
        ({"frequency": "monthly", "count": 14}, "installment_minor"),  # 714 < 1000
        ({"frequency": "weekly", "installment_minor": 1000, "total_minor": 10000}, None),
        ({"frequency": "daily", "count": 2}, "frequency"),
        ({"frequency": "monthly"}, "count"),
        ({"count": 2}, "frequency"),
        ({"offer_id": "monthly-99"}, "offer_id"),
    ],
)
async def test_plans_beyond_the_terms_are_refused_and_nothing_written(
    http: httpx.AsyncClient, memory: MemoryLedger, body: dict[str, Any], field: str | None
) -> None:
    response = await http.post(
        "/v1/accounts/A1/plans", json={"plan_id": "PL", "first_due": TODAY, **body}
    )
    if field is None:  # ten weekly installments: within the terms
        assert response.status_code == 201, response.text
        return
    await refused(response, 422, field)
    assert memory.tables.plans == {}
    assert events(memory, PlanAgreed) == []


async def test_a_long_plan_is_refused(http: httpx.AsyncClient) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [required_row(3, "1000000.00")]})
    body = {"plan_id": "PL", "first_due": TODAY, "frequency": "monthly", "count": 14}
    message = await refused(await http.post("/v1/accounts/A3/plans", json=body), 422, "count")
    assert "longest term" in message


async def test_payments_refused_write_nothing(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    euro = {"payment_id": "P1", "amount": "10", "currency": "EUR"}
    await refused(await http.post("/v1/accounts/A1/payments", json=euro), 422, "currency")
    unknown = "/v1/accounts/A1/payments/NOPE/reversal"
    assert "no payment 'NOPE'" in await refused(
        await http.post(unknown, json={"reason": "nsf"}), 404
    )
    bad_reason = await http.post(unknown, json={"reason": "whim"})
    await refused(bad_reason, 422, "reason")
    assert memory.tables.payments == {}
    assert memory.tables.money.reversals == {}
    assert events(memory, PaymentReceived, PaymentReversed) == []


async def test_a_promise_kept_by_payments(http: httpx.AsyncClient, memory: MemoryLedger) -> None:
    body = {"promise_id": "PR1", "amount_minor": 3000, "due_on": "2026-03-20"}
    assert (await http.post("/v1/accounts/A1/promises", json=body)).status_code == 201
    assert (await http.post("/v1/accounts/A1/promises", json=body)).status_code == 200
    await refused(
        await http.post("/v1/accounts/A1/promises", json={**body, "amount_minor": 3001}), 409
    )
    later = {**body, "promise_id": "PR2", "due_on": "2026-04-02"}
    assert "longest" in await refused(
        await http.post("/v1/accounts/A2/promises", json=later), 422, "due_on"
    )
    for n, amount in ((1, "10"), (2, "20")):
        payment = {"payment_id": f"P{n}", "amount": amount}
        assert (await http.post("/v1/accounts/A1/payments", json=payment)).status_code == 201
    (kept,) = events(memory, PromiseKept)
    assert (kept.promise_id, kept.payment_id) == ("PR1", "P2")
    assert len(events(memory, PromiseMade)) == 1
    timeline = (await http.get("/v1/accounts/A1/timeline")).json()["entries"]
    assert [e["summary"] for e in timeline if e["kind"] == "promise"] == [
        "promise to pay 30.00 USD by 2026-03-20",
        "promise PR1 kept",
    ]
    money = (await http.get("/v1/accounts/A1/money")).json()
    assert money["promises"] == [
        {"promise_id": "PR1", "amount_minor": 3000, "due_on": "2026-03-20", "status": "kept"}
    ]


async def test_a_settlement_paid_settles_the_account(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    low = {"settlement_id": "S1", "amount_minor": 5999, "pay_by": "2026-03-20"}
    assert "floor" in await refused(
        await http.post("/v1/accounts/A1/settlements", json=low), 422, "amount_minor"
    )
    body = {**low, "amount_minor": 6000}
    assert (await http.post("/v1/accounts/A1/settlements", json=body)).status_code == 201
    assert (await http.post("/v1/accounts/A1/settlements", json=body)).status_code == 200
    assert (await http.get("/v1/accounts/A1/offers")).json()["settlement"] is None
    payment = {"payment_id": "P1", "amount": "60"}
    assert (await http.post("/v1/accounts/A1/payments", json=payment)).status_code == 201
    (settled,) = events(memory, AccountSettled)
    assert (settled.how, settled.settlement_id) == ("settlement", "S1")
    money = (await http.get("/v1/accounts/A1/money")).json()
    assert (money["balance_minor"], money["status"]) == (0, "settled")
    assert money["settlements"][0]["status"] == "paid"
    assert money["itemization"]["credits_minor"] == 4000
    assert len(events(memory, SettlementAgreed)) == 1
    timeline = (await http.get("/v1/accounts/A1/timeline")).json()["entries"]
    assert [e["summary"] for e in timeline if e["kind"] == "settlement"] == [
        "settlement agreed: 60.00 USD by 2026-03-20 for a balance of 100.00 USD",
        "settlement S1 paid",
    ]
    reversal = {"reason": "nsf"}
    assert (
        await http.post("/v1/accounts/A1/payments/P1/reversal", json=reversal)
    ).status_code == 201
    money = (await http.get("/v1/accounts/A1/money")).json()
    assert (money["balance_minor"], money["settlements"][0]["status"]) == (10000, "open")


async def test_the_early_discount_is_a_settlement_offer(http: httpx.AsyncClient) -> None:
    offers = (await http.get("/v1/accounts/A2/offers")).json()
    assert offers["early_discount"] == {
        "offer_id": "early_discount",
        "amount_minor": 9000,
        "pay_by": "2026-04-01",
    }
    assert offers["min_part_payment_minor"] == 500
    body = {"settlement_id": "S2", "offer_id": "early_discount"}
    response = await http.post("/v1/accounts/A2/settlements", json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["amount_minor"], response.json()["pay_by"]) == (9000, "2026-04-01")


async def test_the_terms_file_setting_replaces_the_packaged_terms(tmp_path: Path) -> None:
    text = (resources.files("dunning_ledger") / "terms.yaml").read_text()
    custom = tmp_path / "terms.yaml"
    custom.write_text(text.replace("[weekly, biweekly, monthly]", "[monthly]"))
    settings = LedgerSettings(database_url=UNREACHABLE, terms_file=str(custom))
    memory = MemoryLedger()
    app = build_ledger(settings, clock=FixedClock(T0), transactions=memory).app
    async with ledger_client(app) as http:
        rows = {"accounts": [required_row(1)]}
        assert (await http.post("/v1/accounts/import", json=rows)).status_code == 200
        offers = (await http.get("/v1/accounts/A1/offers")).json()["plan_offers"]
        assert {o["frequency"] for o in offers} == {"monthly"}
        weekly = {"plan_id": "PL", "frequency": "weekly", "first_due": TODAY, "count": 2}
        message = await refused(await http.post("/v1/accounts/A1/plans", json=weekly), 422)
        assert "allowed: monthly" in message
    custom.write_text(text.replace("grace_days: 5", "grace_days: -1"))
    with pytest.raises(TermsError, match=r"grace_days: .* \(line 7\)"):
        build_ledger(settings, transactions=memory)
