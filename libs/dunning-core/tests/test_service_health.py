"""Readiness (/health) and liveness (/health/live) of a service runtime, over real HTTP calls
to the ASGI app (no services needed)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from dunning_core.runtime.kafka import Backoff
from dunning_core.runtime.service import Component, ServiceRuntime, health_router
from fastapi import FastAPI


async def _nothing() -> None:
    return None


def _app(runtime: ServiceRuntime) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(health_router(runtime))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_a_dependency_down_makes_the_service_unready_but_not_dead() -> None:
    runtime = ServiceRuntime("svc")
    stop = asyncio.Event()

    async def run() -> None:
        await stop.wait()

    runtime.add(Component("loop", _nothing, _nothing, run))

    async def database() -> dict[str, Any]:
        raise ConnectionRefusedError("database away")

    runtime.checks["database"] = database
    await runtime.start()
    try:
        async with _app(runtime) as http:
            ready, live = await http.get("/health"), await http.get("/health/live")
        assert ready.status_code == 503
        assert ready.json()["database"] == {"ok": False, "error": "database away"}
        assert live.status_code == 200
        assert live.json() == {"service": "svc", "ok": True, "dead_loops": []}
    finally:
        stop.set()
        await runtime.stop()


async def test_a_dead_loop_fails_liveness() -> None:
    # A loop that dies is restarted; one down for longer than the limit (here: at once)
    # is dead for liveness.
    runtime = ServiceRuntime("svc", down_limit_s=0)

    async def crash() -> None:
        raise RuntimeError("boom")

    runtime.add(Component("loop", _nothing, _nothing, crash))
    await runtime.start()
    try:
        await asyncio.sleep(0.01)
        async with _app(runtime) as http:
            live = await http.get("/health/live")
        assert live.status_code == 503
        assert live.json()["dead_loops"] == ["loop"]
    finally:
        await runtime.stop()


async def test_a_loop_that_dies_is_restarted_and_readiness_says_so_meanwhile() -> None:
    runtime = ServiceRuntime("svc", restart_backoff=Backoff(initial=0.2, maximum=0.2))
    runs = 0
    stop = asyncio.Event()
    starts: list[int] = []

    async def start() -> None:
        starts.append(runs)

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise ConnectionError(f"lost the database ({runs})")
        await stop.wait()

    runtime.add(Component("loop", start, _nothing, flaky))
    await runtime.start()
    try:
        await asyncio.sleep(0.01)
        async with _app(runtime) as http:
            ready, live = await http.get("/health"), await http.get("/health/live")
        assert ready.status_code == 503
        assert ready.json()["loop"]["restarting"] is True
        assert "lost the database" in ready.json()["loop"]["error"]
        assert live.status_code == 200
        for _ in range(50):
            if runs == 3:
                break
            await asyncio.sleep(0.05)
        assert runs == 3
        assert len(starts) == 3  # started, then restarted twice
        async with _app(runtime) as http:
            ready = await http.get("/health")
        assert ready.status_code == 200
        assert ready.json()["loop"] == {"restarts": 2}
    finally:
        stop.set()
        await runtime.stop()


async def test_a_closing_component_is_closed_when_the_service_stops_and_not_before() -> None:
    runtime = ServiceRuntime("svc")
    closed: list[str] = []

    async def close() -> None:
        closed.append("client")

    runtime.add_closing("client", close)
    await runtime.start()
    assert closed == []
    await runtime.stop()
    assert closed == ["client"]
