"""``GET /v1/steps/{step_id}`` against the real PostgreSQL: a step's decisions and deliveries.

Events reach the ledger through ``LedgerEventHandler`` (handle, then flush), the handler
the Kafka consumer loop drives; only the broker in front of it is left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dunning_core.contracts import Envelope, wrap
from dunning_core.contracts.common import Channel, Stage
from dunning_core.contracts.events import (
    Decision,
    DeliveryStatus,
    DeliveryUpdated,
    RuleFinding,
    StepDecided,
)
from dunning_core.contracts.ids import step_id
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.handlers import LedgerEventHandler

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
ACCOUNT = "ACC-STEP-1"
DEBT = "DEBT-STEP-1"
STEP = step_id(ACCOUNT, DEBT, "friendly_reminder", "sms", 1)
ACCOUNT_ROW = {
    "account_id": ACCOUNT,
    "full_name": "Ana Step",
    "state": "NY",
    "zip": "10001",
    "phone": "+12125550101",
    "phone_kind": "mobile",
    "phone_consent": "creditor_provided",
    "creditor": "Acme Bank",
    "debt_id": DEBT,
    "balance": "120.50",
    "currency": "USD",
    "due_date": "2026-01-15",
}
QUIET_HOURS = RuleFinding(
    rule_id="time.inconvenient_hours",
    action="defer",
    explanation="18:30 in America/New_York is outside 08:00-21:00",
    not_before=T0 + timedelta(hours=13, minutes=30),
    inputs={"local_time": "18:30", "zone": "America/New_York"},
)


def decided(decision: Decision, at: datetime, *findings: RuleFinding) -> StepDecided:
    return StepDecided(
        account_id=ACCOUNT,
        step_id=STEP,
        planned_event_id=f"plan-{at.isoformat()}",
        debt_id=DEBT,
        stage=Stage.FRIENDLY_REMINDER,
        channel=Channel.SMS,
        attempt=1,
        destination="+12125550101",
        decision=decision,
        not_before=max((f.not_before for f in findings if f.not_before), default=None),
        findings=findings,
        inputs={"local_times": {"America/New_York": at.isoformat()}, "contacts_7d": 0},
        policy_version="test-2026.03",
        content_hash="sha256:abc",
        decided_at=at,
    )


def delivered(status: DeliveryStatus, at: datetime, error: str | None = None) -> DeliveryUpdated:
    return DeliveryUpdated(
        account_id=ACCOUNT,
        step_id=STEP,
        channel=Channel.SMS,
        provider="twilio",
        provider_message_id="SM-0001",
        status=status,
        error_code=error,
        occurred_at=at,
    )


@pytest.fixture
async def ledger(
    fresh_database: Callable[[str], Awaitable[str]], prefix: str
) -> AsyncIterator[Ledger]:
    url = await fresh_database("ledger_step")
    settings = LedgerSettings(
        database_url=url,
        topic_prefix=prefix,
        ledger_group_id=f"{prefix}ledger",
        ledger_relay=False,
        ledger_consume=False,
    )
    built = build_ledger(settings)
    await built.runtime.start()
    try:
        yield built
    finally:
        await built.runtime.stop()


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ledger.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
        yield client


async def consume(ledger: Ledger, *envelopes: Envelope) -> int:
    """One consumer batch: each event handled, then the batch flushed in one transaction."""
    handler = LedgerEventHandler(ledger.service, ledger.settings.ledger_group_id)
    for envelope in envelopes:
        await handler.handle(envelope)
    await handler.flush()
    return handler.recorded


async def test_a_step_shows_each_decision_and_its_delivery_trail(
    ledger: Ledger, http: httpx.AsyncClient
) -> None:
    imported = await http.post("/v1/accounts/import", json={"accounts": [ACCOUNT_ROW]})
    assert imported.json()["opened"] == 1
    allowed_at = T0 + timedelta(hours=13, minutes=30)
    defer = wrap(decided(Decision.DEFER, T0, QUIET_HOURS), "gate")
    assert await consume(ledger, defer) == 1
    assert await consume(ledger, wrap(decided(Decision.ALLOW, allowed_at), "gate")) == 1
    s = timedelta(seconds=1)
    assert (
        await consume(
            ledger,
            wrap(delivered(DeliveryStatus.ACCEPTED, allowed_at + s), "sms"),
            wrap(delivered(DeliveryStatus.DELIVERED, allowed_at + 9 * s), "sms"),
            wrap(delivered(DeliveryStatus.SENT, allowed_at + 2 * s), "sms"),  # arrives late
            defer,  # redelivered: recorded once
        )
        == 3
    )

    response = await http.get(f"/v1/steps/{STEP}")

    assert response.status_code == 200
    record = response.json()
    assert record["account_id"] == ACCOUNT
    step = record["step"]
    assert (step["step_id"], step["channel"], step["stage"], step["attempt"]) == (
        STEP,
        "sms",
        "friendly_reminder",
        1,
    )
    assert (step["decision"], step["rule_ids"], step["decisions"]) == ("allow", [], 2)
    assert step["first_decided_at"] == "2026-03-02T23:30:00Z"
    assert (step["delivery"]["status"], step["delivery"]["final"]) == ("delivered", True)
    assert record["decisions"] == [
        {
            "decided_at": "2026-03-02T23:30:00Z",
            "decision": "defer",
            "policy_version": "test-2026.03",
            "not_before": "2026-03-03T13:00:00Z",
            "findings": [
                {
                    "rule_id": "time.inconvenient_hours",
                    "action": "defer",
                    "explanation": "18:30 in America/New_York is outside 08:00-21:00",
                    "not_before": "2026-03-03T13:00:00Z",
                    "inputs": {"local_time": "18:30", "zone": "America/New_York"},
                }
            ],
            "inputs": {
                "local_times": {"America/New_York": "2026-03-02T23:30:00+00:00"},
                "contacts_7d": 0,
            },
        },
        {
            "decided_at": "2026-03-03T13:00:00Z",
            "decision": "allow",
            "policy_version": "test-2026.03",
            "not_before": None,
            "findings": [],
            "inputs": {
                "local_times": {"America/New_York": "2026-03-03T13:00:00+00:00"},
                "contacts_7d": 0,
            },
        },
    ]
    assert record["deliveries"] == [
        {
            "status": status,
            "occurred_at": at,
            "provider": "twilio",
            "provider_message_id": "SM-0001",
            "error_code": None,
            "detail": None,
        }
        for status, at in [
            ("accepted", "2026-03-03T13:00:01Z"),
            ("sent", "2026-03-03T13:00:02Z"),
            ("delivered", "2026-03-03T13:00:09Z"),
        ]
    ]


async def test_an_unknown_step_is_404_with_the_usual_error_body(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/steps/stp_unknown")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "no step 'stp_unknown'"}
