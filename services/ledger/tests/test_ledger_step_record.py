"""``GET /v1/steps/{step_id}`` against the real PostgreSQL: a step's decisions and deliveries.

Events reach the ledger through ``LedgerEventHandler`` (handle, then flush), the handler
the Kafka consumer loop drives; only the broker in front of it is left out.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from dunning_core.contracts import wrap
from dunning_core.contracts.events import Decision, DeliveryStatus
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import QUIET_HOURS, RETRY_AT, T0, StepStory, consume

pytestmark = pytest.mark.integration

STORY = StepStory("ACC-STEP-1", "DEBT-STEP-1", "+12125550101", "Ana Step")
ACCOUNT, STEP = STORY.account_id, STORY.step_id


@pytest.fixture
def ledger(quiet: Ledger) -> Ledger:
    return quiet


async def test_a_step_shows_each_decision_and_its_delivery_trail(
    ledger: Ledger, http: httpx.AsyncClient
) -> None:
    imported = await http.post("/v1/accounts/import", json={"accounts": [STORY.account_row()]})
    assert imported.json()["opened"] == 1
    allowed_at = RETRY_AT
    defer = wrap(STORY.decided(Decision.DEFER, T0, QUIET_HOURS), "gate")
    assert await consume(ledger, defer) == 1
    assert await consume(ledger, wrap(STORY.decided(Decision.ALLOW, allowed_at), "gate")) == 1
    s = timedelta(seconds=1)
    assert (
        await consume(
            ledger,
            wrap(STORY.delivered(DeliveryStatus.ACCEPTED, allowed_at + s), "sms"),
            wrap(STORY.delivered(DeliveryStatus.DELIVERED, allowed_at + 9 * s), "sms"),
            wrap(STORY.delivered(DeliveryStatus.SENT, allowed_at + 2 * s), "sms"),  # arrives late
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
            "content": None,  # a gate before decisions carried the message
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
            "content": None,  # a gate before decisions carried the message
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
