"""payments.v1 read as a subscriber would, with clients outside our code.

``kcat`` (Debian's package, C, librdkafka) reads every event type off the real broker and the
test decodes its CloudEvents headers and JSON body against the committed JSON Schemas; then the
example subscriber of docs/examples (confluent-kafka + SQLite, nothing of ours) applies each event
once and skips a redelivered one by its ``ce_id``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest
from dunning_core.contracts import payments as pay
from dunning_core.contracts import wrap
from dunning_core.contracts.common import Event, Money
from dunning_core.contracts.topics import PAYMENTS
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.stack import KAFKA, REPO

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
ACCOUNT = "A-payments-1"


def usd(minor: int) -> Money:
    return Money(amount_minor=minor, currency="USD")


def one_of_each() -> list[Event]:
    """One event of every payments.v1 type, as the ledger would write them for one account."""
    common = {"account_id": ACCOUNT, "debt_id": "D-1"}
    schedule = [
        pay.Installment(seq=n, due_on=date(2026, 3 + n, 1), amount=usd(10_000)) for n in (1, 2)
    ]
    received = pay.PaymentReceived(
        **common,
        payment_id="pay-1",
        amount=usd(10_000),
        remaining_balance=usd(10_000),
        received_at=AT,
        method="card",
        plan_id="P-1",
        installments=[1],
        source="page",
    )
    settlement = pay.SettlementAgreed(
        **common,
        settlement_id="S-1",
        amount=usd(14_000),
        balance=usd(20_000),
        pay_by=date(2026, 3, 31),
        agreed_at=AT,
    )
    return [
        pay.PlanAgreed(
            **common,
            plan_id="P-1",
            instalment=usd(10_000),
            instalments=2,
            first_due=date(2026, 4, 1),
            agreed_at=AT,
            frequency="monthly",
            total=usd(20_000),
            schedule=schedule,
            source="page",
        ),
        received,
        pay.PaymentReversed(
            **common,
            payment_id=received.payment_id,
            amount=received.amount,
            reason="nsf",
            remaining_balance=usd(20_000),
            reversed_at=AT,
            plan_id=received.plan_id,
        ),
        pay.InstallmentMissed(
            **common,
            plan_id="P-1",
            seq=1,
            due_on=date(2026, 4, 1),
            amount_due=usd(10_000),
            amount_paid=usd(0),
            missed_count=1,
            detected_at=AT,
        ),
        pay.PlanBroken(
            **common, plan_id="P-1", missed_count=2, remaining_balance=usd(20_000), broken_at=AT
        ),
        pay.PlanCompleted(**common, plan_id="P-2", completed_at=AT),
        pay.PromiseMade(
            **common,
            promise_id="PR-1",
            amount=usd(5_000),
            due_on=date(2026, 3, 10),
            made_at=AT,
            source="api",
        ),
        pay.PromiseKept(**common, promise_id="PR-1", payment_id="pay-2", kept_at=AT),
        pay.PromiseBroken(
            **common,
            promise_id="PR-2",
            due_on=date(2026, 3, 20),
            amount_paid=usd(1_000),
            broken_at=AT,
        ),
        settlement,
        pay.SettlementLapsed(
            **common,
            settlement_id="S-0",
            amount=usd(12_000),
            amount_paid=usd(2_000),
            pay_by=date(2026, 3, 1),
            remaining_balance=usd(20_000),
            lapsed_at=AT,
        ),
        pay.AccountSettled(
            **common,
            how="settlement",
            by_payment_id="pay-3",
            settlement_id=settlement.settlement_id,
            settled_at=AT,
        ),
        pay.CreditRecorded(**common, payment_id="pay-3", credit=usd(250), recorded_at=AT),
        pay.AccountReopened(
            **common, by_payment_id="pay-3", remaining_balance=usd(14_000), reopened_at=AT
        ),
    ]


def kcat_records(topic: str, count: int) -> list[dict[str, object]]:
    """Every record of ``topic`` as kcat's JSON envelope (key, payload, headers)."""
    done = subprocess.run(
        [
            "kcat",
            "-b",
            KAFKA,
            "-C",
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-J",
            "-c",
            str(count),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.fixture
def kcat() -> None:
    if shutil.which("kcat") is None:
        pytest.fail("kcat is not installed: deploy/local/stack.sh installs it (apt: kcat)")


async def test_kcat_decodes_the_headers_and_body_of_every_event_type(
    kcat: None, producer: EventProducer, topics: str
) -> None:
    events = one_of_each()
    assert {type(e) for e in events} == set(pay.PAYMENT_EVENTS), "one sample per type"
    await producer.publish([wrap(e, "ledger") for e in events])

    records = kcat_records(topics + PAYMENTS, len(events))

    assert len(records) == len(events)
    seen: dict[str, dict[str, object]] = {}
    for record, event in zip(records, events, strict=True):  # one key: one partition, in order
        raw = record["headers"]
        assert isinstance(raw, list)
        headers = dict(zip(raw[0::2], raw[1::2], strict=True))
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_type"] == event.event_type
        assert headers["ce_id"] == event.default_event_id()
        assert headers["ce_subject"] == ACCOUNT
        assert headers["ce_source"] == "urn:dunning:ledger"
        assert headers["content-type"] == "application/json"
        datetime.fromisoformat(str(headers["ce_time"]))
        assert record["key"] == ACCOUNT
        body = json.loads(str(record["payload"]))
        schema = json.loads((REPO / f"docs/contracts/{event.event_type}.schema.json").read_text())
        jsonschema.validate(body, schema)
        seen[event.event_type] = body
    assert set(seen) == {e.event_type for e in pay.PAYMENT_EVENTS}
    assert seen["plan.agreed.v1"]["schedule"][1] == {  # type: ignore[index]
        "seq": 2,
        "due_on": "2026-05-01",
        "amount": {"amount_minor": 10000, "currency": "USD"},
    }


def run_example(topic: str, group: str, db: Path) -> list[str]:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "docs/examples/payments_consumer.py"),
            "--bootstrap",
            KAFKA,
            "--group",
            group,
            "--topic",
            topic,
            "--db",
            str(db),
            "--idle-exit",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


async def test_the_example_subscriber_applies_each_event_once(
    producer: EventProducer, topics: str, tmp_path: Path, prefix: str
) -> None:
    events = one_of_each()
    await producer.publish([wrap(e, "ledger") for e in events])
    topic, db = topics + PAYMENTS, tmp_path / "subscriber.sqlite"

    first = run_example(topic, prefix + "finance", db)
    assert sum(line.endswith(" applied") for line in first) == len(events)
    assert "total received USD 100.00" in first
    assert "total reversed USD 100.00" in first
    assert [line for line in first if line.startswith("settlement S-")] == [
        "settlement S-0 lapsed",
        "settlement S-1 paid",
    ]

    # The ledger publishes the payment again (a redelivery: the same ce_id). A new group
    # replaying the topic from the start must not count anything twice either.
    await producer.publish([wrap(events[1], "ledger")])
    again = run_example(topic, prefix + "finance", db)
    assert [line for line in again if " applied" in line or " seen" in line] == [
        f"payment.received.v1 b'{ACCOUNT}' seen"
    ]
    replay = run_example(topic, prefix + "audit", db)
    assert sum(line.endswith(" seen") for line in replay) == len(events) + 1
    assert "total received USD 100.00" in replay
