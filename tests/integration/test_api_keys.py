"""API keys across services on the real stack: a key the ledger makes is accepted by the
gate and the scheduler, which never read the ledger's tables (they follow the compacted
``auth.keys.v1``), and a revoke reaches both within a bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from dunning_gate.bootstrap import build as build_gate
from dunning_gate.config import GateSettings
from dunning_ledger.bootstrap import build_ledger
from dunning_scheduler.bootstrap import build as build_scheduler
from dunning_scheduler.config import SchedulerSettings
from dunning_testkit.ledger import settings_for
from dunning_testkit.paths import auth_headers
from dunning_testkit.stack import KAFKA, REDIS_URL
from fastapi import FastAPI

pytestmark = pytest.mark.integration

REVOKE_BOUND_S = 5.0  # the brief: a revoke holds everywhere "within seconds"


async def client(app: FastAPI, stack: AsyncExitStack) -> httpx.AsyncClient:
    runtime = app.state.runtime
    await runtime.start()
    stack.push_async_callback(runtime.stop)
    transport = httpx.ASGITransport(app=app)
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url="http://svc")
    )


@pytest.fixture
async def services(
    topics: str, fresh_database: Callable[[str], Awaitable[str]]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    ledger_settings = settings_for(topics, await fresh_database("ledger"), consume=False)
    scheduler_settings = SchedulerSettings(
        topic_prefix=topics,
        database_url=await fresh_database("scheduler"),
        kafka_bootstrap=KAFKA,
        planner_enabled=False,
    )
    gate_settings = GateSettings(
        topic_prefix=topics, kafka_bootstrap=KAFKA, redis_url=REDIS_URL, redis_prefix="keys:"
    )
    async with AsyncExitStack() as stack:
        yield {
            "ledger": await client(build_ledger(ledger_settings).app, stack),
            "gate": await client(build_gate(gate_settings), stack),
            "scheduler": await client(build_scheduler(scheduler_settings), stack),
        }


async def status_of(http: httpx.AsyncClient, path: str, key: str) -> int:
    if path == "/v1/evaluate":
        response = await http.post(path, json={}, headers=auth_headers(key))
    else:
        response = await http.get(path, headers=auth_headers(key))
    return response.status_code


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> None:
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)


async def test_a_ledger_key_works_everywhere_and_its_revoke_within_seconds(
    services: dict[str, httpx.AsyncClient],
) -> None:
    ledger, gate, scheduler = services["ledger"], services["gate"], services["scheduler"]
    reads = [(gate, "/v1/evaluate"), (gate, "/v1/policy"), (scheduler, "/v1/stats")]
    for http, path in reads:
        assert await status_of(http, path, "") == 401, path
    for http in (ledger, gate, scheduler):  # health stays open (probes carry no key)
        assert (await http.get("/health/live")).status_code == 200

    created = await ledger.post(
        "/v1/keys", json={"name": "auditor", "role": "read_only"}, headers=auth_headers()
    )
    key, key_id = created.json()["key"], created.json()["key_id"]

    async def everywhere(status: int) -> bool:
        return all([await status_of(http, path, key) == status for http, path in reads])

    await within(REVOKE_BOUND_S, lambda: everywhere(200))

    revoked = await ledger.delete(f"/v1/keys/{key_id}", headers=auth_headers())
    assert revoked.status_code == 200
    await within(REVOKE_BOUND_S, lambda: everywhere(401))

    refused = await gate.get("/v1/policy", headers=auth_headers(key))
    assert refused.json() == {
        "error": "unauthorized", "message": f"API key {key_id} was revoked",
    }  # fmt: skip
    # The bootstrap admin key, from the environment, still opens every service.
    for http, path in reads:
        assert await status_of(http, path, auth_headers()["Authorization"][7:]) == 200
