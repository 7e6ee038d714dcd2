"""Fixtures of the ledger's tests against the stack: a fresh database, a started ledger
(modules may build their own ``ledger``), and an HTTP client over ASGI to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_testkit.ledger import settings_for
from dunning_testkit.paths import auth_headers


@pytest.fixture
async def database(fresh_database: Callable[[str], Awaitable[str]]) -> str:
    return await fresh_database("ledger")


@pytest.fixture
async def ledger(topics: str, database: str) -> AsyncIterator[Ledger]:
    built = build_ledger(settings_for(topics, database))
    await built.runtime.start()
    try:
        yield built
    finally:
        await built.runtime.stop()


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ledger.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ledger", headers=auth_headers()
    ) as client:
        yield client
