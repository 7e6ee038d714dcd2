"""The money life cycle against PostgreSQL and Kafka: a plan, payments, a credit, a
reversal after settlement; what is stored and what reaches payments.v1."""

from __future__ import annotations

import httpx
import pytest
from dunning_core.contracts import payments as pay
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import import_row, read_topic, scalar

pytestmark = pytest.mark.integration


async def test_a_plan_paid_off_with_a_credit_then_reversed(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    rows = {"accounts": [import_row(1, balance="90.00")]}
    assert (await http.post("/v1/accounts/import", json=rows)).status_code == 200
    offers = (await http.get("/v1/accounts/ACC-000001/offers")).json()
    offer = next(o for o in offers["plan_offers"] if o["offer_id"] == "weekly-4")
    assert offer["installment_minor"] == 2250
    plan = {"plan_id": "PL-1", "offer_id": "weekly-4", "source": "page"}
    created = await http.post("/v1/accounts/ACC-000001/plans", json=plan)
    assert created.status_code == 201, created.text
    assert (await http.post("/v1/accounts/ACC-000001/plans", json=plan)).status_code == 200

    for payment_id, amount in (("PAY-1", "30.00"), ("PAY-2", "65.00")):
        body = {"payment_id": payment_id, "amount": amount, "method": "card"}
        response = await http.post("/v1/accounts/ACC-000001/payments", json=body)
        assert response.status_code == 201, response.text
    money = (await http.get("/v1/accounts/ACC-000001/money")).json()
    assert (money["status"], money["balance_minor"], money["credit_minor"]) == ("settled", 0, 500)
    assert money["plans"][0]["status"] == "completed"
    assert {i["status"] for i in money["plans"][0]["installments"]} == {"paid"}

    reversal = await http.post(
        "/v1/accounts/ACC-000001/payments/PAY-1/reversal", json={"reason": "nsf"}
    )
    assert reversal.status_code == 201, reversal.text
    money = (await http.get("/v1/accounts/ACC-000001/money")).json()
    assert (money["status"], money["balance_minor"], money["credit_minor"]) == ("open", 3000, 500)
    assert [i["status"] for i in money["plans"][0]["installments"]] == [
        "due", "partly_paid", "paid", "paid",
    ]  # fmt: skip
    assert await scalar(database, "SELECT status FROM ledger.accounts") == "open"
    assert await scalar(database, "SELECT count(*) FROM ledger.payment_reversals") == 1

    await ledger.relay.drain()
    kinds = [
        pay.PlanAgreed,
        pay.PaymentReceived,
        pay.PaymentReceived,
        pay.CreditRecorded,
        pay.PlanCompleted,
    ]
    kinds += [pay.AccountSettled, pay.PaymentReversed, pay.AccountReopened]
    events = await read_topic(topics + "payments.v1", at_least=len(kinds))
    assert [type(e.data) for e in events] == kinds
    received = events[2].data
    assert isinstance(received, pay.PaymentReceived)
    assert (received.plan_id, received.installments) == ("PL-1", [2, 3, 4])
    assert received.credit is not None
    assert received.credit.amount_minor == 500
