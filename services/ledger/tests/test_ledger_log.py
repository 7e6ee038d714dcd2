"""The ledger against the real PostgreSQL and Kafka: payments, plans, signals, the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dunning_core.contracts import events as ev
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Channel, Stage
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.gate import eventually
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import publish, read_topic, scalar

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


# --- payments, plans, signals ---------------------------------------------------------


async def test_a_payment_posted_twice_is_one_payment_and_one_event(
    http: httpx.AsyncClient, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(7, balance="300.00")]})
    body = {"payment_id": "PAY-7", "amount": "120.50", "method": "card"}
    first = await http.post("/v1/accounts/ACC-000007/payments", json=body)
    second = await http.post("/v1/accounts/ACC-000007/payments", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replayed"] is True
    assert first.json()["remaining_balance"]["display"] == "179.50"

    conflict = await http.post("/v1/accounts/ACC-000007/payments", json={**body, "amount": "1.00"})
    assert conflict.status_code == 409
    # Beyond the balance is a credit since issue 11; another currency is still refused.
    euros = await http.post(
        "/v1/accounts/ACC-000007/payments",
        json={"payment_id": "PAY-8", "amount": "500", "currency": "EUR"},
    )
    assert euros.status_code == 422
    assert (await http.post("/v1/accounts/NOPE/payments", json=body)).status_code == 404

    account = (await http.get("/v1/accounts/ACC-000007")).json()
    assert [p["payment_id"] for p in account["payments"]] == ["PAY-7"]
    assert account["balance"]["amount_minor"] == 17950

    events = await read_topic(topics + "payments.v1", at_least=1)
    assert len(events) == 1
    payment = events[0].data
    assert isinstance(payment, ev.PaymentReceived)
    assert (payment.amount.amount_minor, payment.remaining_balance.amount_minor) == (12050, 17950)

    # Paying the rest marks the account paid; a re-import of the same file keeps the payments.
    await http.post(
        "/v1/accounts/ACC-000007/payments", json={"payment_id": "PAY-9", "amount": "179.50"}
    )
    reimport = await http.post("/v1/accounts/import", json={"accounts": [row(7, balance="300.00")]})
    assert reimport.json()["unchanged"] == 1
    account = (await http.get("/v1/accounts/ACC-000007")).json()
    assert (account["status"], account["balance"]["amount_minor"]) == ("paid", 0)


async def test_plans_are_idempotent(http: httpx.AsyncClient, topics: str) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(8)]})
    first_due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()  # wall clock
    body = {"plan_id": "PLAN-8", "instalment": "25", "instalments": 4, "first_due": first_due}
    assert (await http.post("/v1/accounts/ACC-000008/plans", json=body)).status_code == 201
    assert (await http.post("/v1/accounts/ACC-000008/plans", json=body)).status_code == 200
    events = await read_topic(topics + "payments.v1", at_least=1)
    assert [e.type for e in events] == ["plan.agreed.v1"]


async def test_operator_signals_are_recorded_announced_and_not_echoed(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(9)]})
    body = {"signal_id": "letter-9", "kind": "disputed", "text": "not my debt"}
    first = await http.post("/v1/accounts/ACC-000009/signals", json=body)
    again = await http.post("/v1/accounts/ACC-000009/signals", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["ce_id"] == again.json()["ce_id"]
    refused = await http.post(
        "/v1/accounts/ACC-000009/signals", json={"signal_id": "x", "kind": "replied"}
    )
    assert refused.status_code == 422

    events = await read_topic(topics + "consumer.signals.v1", at_least=1)
    assert len(events) == 1
    signal = events[0].data
    assert isinstance(signal, ev.ConsumerSignaled)
    assert (signal.source, signal.kind, signal.debt_id) == (
        "operator",
        ev.SignalKind.DISPUTED,
        "DEBT-000009",
    )
    account = (await http.get("/v1/accounts/ACC-000009")).json()
    assert [(f["flag"], f["active"]) for f in account["flags"]] == [("disputed", True)]
    assert account["disputes"][0]["verified_at"] is None

    # The ledger consumes its own announcement back: already processed, so nothing doubles.
    loop = ledger.loop
    assert loop is not None
    await eventually(lambda: _consumed(ledger, duplicates=1))
    assert await scalar(database, "SELECT count(*) FROM ledger.communication_events") == 1

    verified = await http.post(
        "/v1/accounts/ACC-000009/signals", json={"signal_id": "ver-9", "kind": "dispute_verified"}
    )
    assert verified.status_code == 201
    account = (await http.get("/v1/accounts/ACC-000009")).json()
    assert [(f["flag"], f["active"]) for f in account["flags"]] == [("disputed", False)]
    assert account["disputes"][0]["verified_at"] is not None


async def _consumed(ledger: Ledger, *, handled: int = 0, duplicates: int = 0) -> bool:
    assert ledger.loop is not None
    stats = ledger.loop.stats
    return stats.handled >= handled and stats.duplicates >= duplicates


# --- the communication log ------------------------------------------------------------


def decided(step: str, decision: ev.Decision, at: datetime, *rules: str) -> ev.StepDecided:
    return ev.StepDecided(
        account_id="ACC-000005",
        step_id=step,
        planned_event_id=f"{step}@{at.isoformat()}",
        debt_id="DEBT-000005",
        stage=Stage.FRIENDLY_REMINDER,
        channel=Channel.SMS,
        attempt=1,
        destination="+12125550005",
        decision=decision,
        not_before=at + timedelta(hours=15) if decision is ev.Decision.DEFER else None,
        findings=tuple(
            ev.RuleFinding(
                rule_id=r,
                action="block" if decision is ev.Decision.BLOCK else "defer",
                explanation="test",
            )
            for r in rules
        ),
        policy_version="test-1",
        content_hash="sha256:abc",
        decided_at=at,
    )


def delivered(step: str, status: ev.DeliveryStatus, at: datetime) -> ev.DeliveryUpdated:
    return ev.DeliveryUpdated(
        account_id="ACC-000005",
        step_id=step,
        channel=Channel.SMS,
        provider="twilio",
        provider_message_id=f"SM-{step}",
        status=status,
        occurred_at=at,
    )


def texted(
    account_id: str, signal_id: str, kind: ev.SignalKind, **fields: Any
) -> ev.ConsumerSignaled:
    """A consumer's text message, as the SMS service announces it, at ``T0``."""
    return ev.ConsumerSignaled(
        account_id=account_id,
        signal_id=signal_id,
        kind=kind,
        source="sms",
        occurred_at=T0,
        **fields,
    )


async def test_decisions_and_deliveries_give_each_step_its_final_status(
    http: httpx.AsyncClient, ledger: Ledger, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(5)]})
    s = timedelta(seconds=1)
    await publish(
        [
            wrap(decided("stp-a", ev.Decision.ALLOW, T0), "gate"),
            wrap(decided("stp-b", ev.Decision.DEFER, T0 + s, "hours.fdcpa"), "gate"),
            wrap(decided("stp-c", ev.Decision.BLOCK, T0 + 2 * s, "optout.channel"), "gate"),
            # A delivery may arrive before its decision is recorded: it creates the row.
            wrap(delivered("stp-d", ev.DeliveryStatus.ACCEPTED, T0 + 3 * s), "sms"),
        ],
        topics,
    )
    await publish(
        [
            wrap(delivered("stp-a", ev.DeliveryStatus.ACCEPTED, T0 + 10 * s), "sms"),
            wrap(delivered("stp-a", ev.DeliveryStatus.DELIVERED, T0 + 30 * s), "sms"),
            wrap(delivered("stp-a", ev.DeliveryStatus.SENT, T0 + 20 * s), "sms"),  # late
            wrap(decided("stp-d", ev.Decision.ALLOW, T0 + 2 * s), "gate"),
        ],
        topics,
    )
    await eventually(lambda: _consumed(ledger, handled=8))

    log = (await http.get("/v1/accounts/ACC-000005/communications")).json()
    steps = {s["step_id"]: s for s in log["steps"]}
    assert [s["step_id"] for s in log["steps"]] == ["stp-a", "stp-b", "stp-c", "stp-d"]
    a = steps["stp-a"]
    assert (a["decision"], a["stage"], a["rule_ids"]) == ("allow", "friendly_reminder", [])
    assert (a["delivery"]["status"], a["delivery"]["final"]) == ("delivered", True)
    assert a["delivery"]["sent_at"] == "2026-03-02T15:00:20Z"
    assert a["delivery"]["provider_message_id"] == "SM-stp-a"
    b = steps["stp-b"]
    assert (b["decision"], b["rule_ids"], b["delivery"]) == ("defer", ["hours.fdcpa"], None)
    assert b["not_before"] == "2026-03-03T06:00:01Z"
    assert (steps["stp-c"]["decision"], steps["stp-c"]["rule_ids"]) == ("block", ["optout.channel"])
    d = steps["stp-d"]
    assert (d["decision"], d["attempt"], d["delivery"]["status"]) == ("allow", 1, "accepted")
    assert log["events"] is None

    detailed = (await http.get("/v1/accounts/ACC-000005/communications?detail=events")).json()
    assert len(detailed["events"]) == 8
    assert {e["kind"] for e in detailed["events"]} == {"decision", "delivery"}
    assert detailed["events"][0]["payload"]["step_id"] == "stp-a"

    summary = (await http.get("/v1/summary")).json()
    assert summary["steps"] == {"total": 4, "allow": 2, "defer": 1, "block": 1}
    assert summary["stages"] == {
        "friendly_reminder": {"total": 4, "allow": 2, "defer": 1, "block": 1}
    }
    assert summary["rules"] == {"block": {"optout.channel": 1}, "defer": {"hours.fdcpa": 1}}
    assert summary["deliveries"]["sms"] == {"accepted": 1, "delivered": 1}


async def test_a_delivery_event_delivered_twice_is_recorded_once(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(5)]})
    event = wrap(delivered("stp-x", ev.DeliveryStatus.DELIVERED, T0), "sms")
    await publish([event], topics)
    await eventually(lambda: _consumed(ledger, handled=1))
    await publish([event], topics)  # a second delivery of the same record, in a later batch
    await eventually(lambda: _consumed(ledger, handled=1, duplicates=1))
    count = "SELECT count(*) FROM ledger.communication_events WHERE ce_id = $1"
    assert await scalar(database, count, event.id) == 1

    # And below the loop's dedupe: the service itself ignores an event it already recorded.
    assert (
        await ledger.use_cases.communications.record_events(ledger.settings.group_id, [event]) == 0
    )
    assert await scalar(database, count, event.id) == 1


async def test_consumer_signals_set_flags(
    http: httpx.AsyncClient, ledger: Ledger, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(6)]})
    stop = texted(
        "ACC-000006",
        "SM-in-1",
        ev.SignalKind.OPTED_OUT,
        channel=Channel.SMS,
        address="+12125550006",
        text="STOP",
    )
    await publish([wrap(stop, "sms")], topics)
    await eventually(lambda: _consumed(ledger, handled=1))
    account = (await http.get("/v1/accounts/ACC-000006")).json()
    assert [(f["flag"], f["scope"], f["active"], f["source"]) for f in account["flags"]] == [
        ("opted_out", "+12125550006", True, "sms")
    ]
    assert (await http.get("/v1/summary")).json()["flags"] == {"opted_out": 1}


async def test_a_poison_event_is_dead_lettered_and_the_rest_recorded(
    http: httpx.AsyncClient, ledger: Ledger, topics: str
) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(4)]})
    poison = texted("ACC-000004", "SM-in-nul", ev.SignalKind.REPLIED, text="hello\x00")
    fine = ev.DeliveryUpdated(
        account_id="ACC-000004",
        step_id="stp-fine",
        channel=Channel.EMAIL,
        provider="sendgrid",
        status=ev.DeliveryStatus.DELIVERED,
        occurred_at=T0,
    )
    await publish([wrap(poison, "sms"), wrap(fine, "email")], topics)
    await eventually(lambda: _consumed(ledger, handled=1))
    dead = await read_topic(topics + "consumer.signals.v1.dlq", at_least=1)
    assert [e.data.account_id for e in dead] == ["ACC-000004"]
    log = (await http.get("/v1/accounts/ACC-000004/communications")).json()
    assert [(s["step_id"], s["delivery"]["status"]) for s in log["steps"]] == [
        ("stp-fine", "delivered")
    ]
