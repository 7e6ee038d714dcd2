"""An operator's pause of outreach and its resumption, over the in-memory ledger: who may,
what is recorded (flag, timeline with who and why), what is announced on consumer.signals.v1,
idempotency, and the end of a pause given an ``until`` (the periodic pass)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_ledger.money.overdue import DueDatePass
from dunning_ledger.terms import load_terms
from dunning_testkit.ledger import UNREACHABLE, importing_client, required_row
from dunning_testkit.ledger_memory import MemoryLedger

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def ledger(memory: MemoryLedger, clock: FixedClock) -> Ledger:
    # No database, so no relay to wait for: answer at once (the wait is tested on the stack).
    settings = LedgerSettings(database_url=UNREACHABLE, signal_publish_wait_s=0)
    return build_ledger(settings, clock=clock, transactions=memory)


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    async with importing_client(ledger.app, [required_row(1)]) as client:
        yield client


async def key(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    created = await http.post("/v1/keys", json={"name": f"ops-{role}", "role": role})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


def signals(memory: MemoryLedger) -> list[ConsumerSignaled]:
    return [e.data for e in memory.tables.outbox if isinstance(e.data, ConsumerSignaled)]


async def paused_flag(http: httpx.AsyncClient) -> dict[str, Any] | None:
    flags = (await http.get("/v1/accounts/A1")).json()["flags"]
    return next((f for f in flags if f["flag"] == "outreach_paused"), None)


async def timeline(http: httpx.AsyncClient) -> list[tuple[str, str | None]]:
    entries = (await http.get("/v1/accounts/A1/timeline")).json()["entries"]
    return [(e["summary"], e["by"]) for e in entries if "outreach" in e["summary"]]


async def test_operators_pause_and_resume_and_others_may_not(
    http: httpx.AsyncClient, memory: MemoryLedger
) -> None:
    operator = await key(http, "operator")
    body = {"pause_id": "pz-1", "reason": "customer in hospital, call back in May"}
    for role in ("agent", "read_only", "payment_system", "portal"):
        refused = await http.post("/v1/accounts/A1/pause", json=body, headers=await key(http, role))
        assert refused.status_code == 403, (role, refused.text)
    assert signals(memory) == []

    paused = await http.post("/v1/accounts/A1/pause", json=body, headers=operator)
    assert paused.status_code == 201, paused.text
    assert paused.json()["recorded_by"] == "ops-operator"
    again = await http.post("/v1/accounts/A1/pause", json=body, headers=operator)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    [signal] = signals(memory)
    assert (signal.kind, signal.source, signal.text) == (
        SignalKind.OUTREACH_PAUSED, "operator", body["reason"],
    )  # fmt: skip
    assert signal.details == {}
    flag = await paused_flag(http)
    assert flag is not None
    assert (flag["active"], flag["detail"]) == (True, body["reason"])
    assert await timeline(http) == [
        ("outreach paused by ops-operator: customer in hospital, call back in May",
         "ops-operator"),
    ]  # fmt: skip

    resume = {"resume_id": "rz-1"}
    agent = await key(http, "agent")
    assert (
        await http.post("/v1/accounts/A1/resume", json=resume, headers=agent)
    ).status_code == 403
    resumed = await http.post("/v1/accounts/A1/resume", json=resume, headers=operator)
    assert resumed.status_code == 201, resumed.text
    replay = await http.post("/v1/accounts/A1/resume", json=resume, headers=operator)
    assert replay.status_code == 200, replay.text  # a double click answers as the first
    other = await http.post("/v1/accounts/A1/resume", json={"resume_id": "rz-2"}, headers=operator)
    assert other.status_code == 409, other.text  # nothing is paused
    assert [s.kind for s in signals(memory)] == [
        SignalKind.OUTREACH_PAUSED, SignalKind.OUTREACH_RESUMED,
    ]  # fmt: skip
    flag = await paused_flag(http)
    assert flag is not None
    assert flag["active"] is False
    assert (await timeline(http))[-1] == ("outreach resumed by ops-operator", "ops-operator")
    # A pause is not an agent's signal: the signals route refuses the kind.
    sneaky = {"signal_id": "s-1", "kind": "outreach_paused"}
    assert (await http.post("/v1/accounts/A1/signals", json=sneaky)).status_code == 422
    unknown = await http.post("/v1/accounts/NOPE/resume", json=resume, headers=operator)
    assert unknown.status_code == 404


async def test_a_pause_with_until_ends_by_itself_once(
    http: httpx.AsyncClient, memory: MemoryLedger, clock: FixedClock, ledger: Ledger
) -> None:
    past = {"pause_id": "pz-0", "reason": "x", "until": (T0 - timedelta(hours=1)).isoformat()}
    refused = await http.post("/v1/accounts/A1/pause", json=past)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "until"
    until = T0 + timedelta(days=3)
    body = {"pause_id": "pz-1", "reason": "holiday", "until": until.isoformat()}
    assert (await http.post("/v1/accounts/A1/pause", json=body)).status_code == 201
    [signal] = signals(memory)
    assert signal.details == {"until": until.isoformat()}
    assert (await timeline(http)) == [
        (f"outreach paused by bootstrap-admin until {until.isoformat()}: holiday",
         "bootstrap-admin"),
    ]  # fmt: skip

    pauses = ledger.use_cases.pauses
    due = DueDatePass(memory, clock, load_terms(), pauses=pauses)
    clock.advance(timedelta(days=2))
    assert await pauses.end_due(clock.now()) == 0  # not yet
    clock.advance(timedelta(days=1))
    await due.pass_once()
    await due.pass_once()  # a second pass (or replica) finds nothing left to end
    kinds = [(s.kind, s.signal_id) for s in signals(memory)]
    assert kinds == [
        (SignalKind.OUTREACH_PAUSED, "pz-1"), (SignalKind.OUTREACH_RESUMED, "pz-1.ended"),
    ]  # fmt: skip
    flag = await paused_flag(http)
    assert flag is not None
    assert flag["active"] is False
    summary, _ = (await timeline(http))[-1]
    assert summary == f"outreach resumed by the ledger: the pause ended at {until.isoformat()}"
