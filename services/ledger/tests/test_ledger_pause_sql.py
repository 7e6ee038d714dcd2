"""An operator's pause on PostgreSQL and Kafka: recorded, announced once on the topic, its
flag on the account, and ended by the pass once its ``until`` has come (the SQL that finds
the pauses to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import import_row as row

pytestmark = pytest.mark.integration


async def test_a_pause_with_until_is_ended_by_the_pass(
    http: httpx.AsyncClient, ledger: Ledger
) -> None:
    rows = [row(n) for n in (1, 2)]
    assert (await http.post("/v1/accounts/import", json={"accounts": rows})).status_code == 200
    until = datetime.now(UTC) + timedelta(hours=1)
    timed = {"pause_id": "pz-1", "reason": "holiday", "until": until.isoformat()}
    paused = await http.post("/v1/accounts/ACC-000001/pause", json=timed)
    assert paused.status_code == 201, paused.text
    open_ended = {"pause_id": "pz-2", "reason": "legal review"}
    assert (await http.post("/v1/accounts/ACC-000002/pause", json=open_ended)).status_code == 201

    pauses = ledger.use_cases.pauses
    assert await pauses.end_due(until - timedelta(minutes=1)) == 0
    assert await pauses.end_due(until) == 1
    assert await pauses.end_due(until + timedelta(days=30)) == 0  # ended once; pz-2 has none

    def paused_flag(account: dict[str, object]) -> bool:
        flags = account["flags"]
        assert isinstance(flags, list)
        return any(f["flag"] == "outreach_paused" and f["active"] for f in flags)

    first = (await http.get("/v1/accounts/ACC-000001")).json()
    second = (await http.get("/v1/accounts/ACC-000002")).json()
    assert (paused_flag(first), paused_flag(second)) == (False, True)
    entries = (await http.get("/v1/accounts/ACC-000001/timeline")).json()["entries"]
    assert [e["summary"] for e in entries if "outreach" in e["summary"]] == [
        f"outreach paused by bootstrap-admin until {until.isoformat()}: holiday",
        f"outreach resumed by the ledger: the pause ended at {until.isoformat()}",
    ]
