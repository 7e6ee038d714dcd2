"""One account's path end to end, for a handful of accounts in several time zones.

ledger REST import → accounts.v1 → scheduler plans a friendly reminder → the gate vets
it (quiet hours in every candidate zone) → sms and email workers send through the
official SDKs to the provider sandbox → signed callbacks → delivery.v1 → the ledger's
communication log shows each step with its final status.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from dunning_cli.portfolio import sample_rows
from dunning_core.contracts.account_import import to_csv
from dunning_testkit.paths import auth_headers

from .conftest import Pipeline

pytestmark = pytest.mark.e2e


def accounts() -> list[dict[str, str]]:
    """New York to Hawaii: FL, TX, IL, CO, AZ, CA, WA, MA, HI, AK, GA, NY."""
    return sample_rows(12, seed=11)


async def communications(
    http: httpx.AsyncClient, ledger: str, account_id: str, events: bool = False
) -> dict[str, Any]:
    query = "?detail=events" if events else ""
    response = await http.get(f"{ledger}/v1/accounts/{account_id}/communications{query}")
    response.raise_for_status()
    return dict(response.json())


def final(step: dict[str, Any]) -> bool:
    return bool(step.get("delivery") and step["delivery"]["final"])


async def test_friendly_reminders_reach_every_zone_at_a_lawful_hour(pipeline: Pipeline) -> None:
    rows = accounts()
    async with httpx.AsyncClient(timeout=30, headers=auth_headers()) as http:
        response = await http.post(
            f"{pipeline.ledger}/v1/accounts/import",
            content=to_csv(rows).encode(),
            headers={"content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["opened"] == len(rows)

        logs: dict[str, list[dict[str, Any]]] = {}
        async with asyncio.timeout(150):
            while True:
                for row in rows:
                    log = await communications(http, pipeline.ledger, row["account_id"])
                    logs[row["account_id"]] = log["steps"]
                done = [
                    a
                    for a, steps in logs.items()
                    if {s["channel"] for s in steps if final(s)} >= {"sms", "email"}
                ]
                if len(done) == len(rows):
                    break
                await asyncio.sleep(2)

        by_state = {row["account_id"]: row["state"] for row in rows}
        for account_id, steps in logs.items():
            reminders = [s for s in steps if s["stage"] == "friendly_reminder"]
            assert {s["channel"] for s in reminders} >= {"sms", "email"}, (account_id, steps)
            for step in reminders:
                assert step["decision"] == "allow", (account_id, step)
                assert step["delivery"]["status"] == "delivered", (account_id, step)
        # 10:30 in New York is 05:30 in Honolulu: Hawaii's text waited until 08:00 there,
        # and one trace follows it from the plan to the provider's callback.
        hawaii = [a for a, s in by_state.items() if s == "HI"]
        assert hawaii
        for account_id in hawaii:
            detail = await communications(http, pipeline.ledger, account_id, events=True)
            sms = next(s for s in detail["steps"] if s["channel"] == "sms")
            events = [e for e in detail["events"] if e["step_id"] == sms["step_id"]]
            deferrals = [e for e in events if e["kind"] == "decision" and e["outcome"] == "defer"]
            assert deferrals, events
            assert "hours.fdcpa" in {f["rule_id"] for f in deferrals[0]["payload"]["findings"]}
            allowed_at = datetime.fromisoformat(sms["decided_at"])
            assert allowed_at.astimezone(ZoneInfo("Pacific/Honolulu")).hour >= 8
            traces = {e["traceparent"].split("-")[1] for e in events if e["traceparent"]}
            assert len(traces) == 1, events

        # The ledger's timeline holds the text sent, whole: what the sandbox received.
        sent = (await http.get(f"{pipeline.sandbox}/_sandbox/messages")).json()["messages"]
        for row in rows[:3]:
            response = await http.get(f"{pipeline.ledger}/v1/accounts/{row['account_id']}/timeline")
            assert response.status_code == 200, response.text
            allowed = [
                e
                for e in response.json()["entries"]
                if e["kind"] == "decision" and e["details"]["decision"] == "allow"
            ]
            assert {e["details"]["channel"] for e in allowed} >= {"sms", "email"}, allowed
            for e in allowed:
                to = e["details"]["destination"]
                got = [m for m in sent if to in (m["to"] if m["channel"] == "email" else [m["to"]])]
                assert got, (to, row["account_id"])
                if e["details"]["channel"] == "sms":
                    assert e["text"] in {m["body"] for m in got}, (e["text"], got)
                else:
                    assert e["subject"] in {m["subject"] for m in got}, (e["subject"], got)
                    assert e["text"]
                assert e["details"]["message"]["matches_content_hash"] is True
