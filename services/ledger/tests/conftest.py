"""Fixtures of the ledger's tests against the stack: a fresh database, a started ledger
(modules may build their own ``ledger``), and an HTTP client over ASGI to it; and in-memory
tables for the modules that serve the routes without PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.ledger import ledger_client, quiet_ledger, settings_for, started_ledger
from dunning_testkit.ledger_memory import MemoryLedger


@pytest.fixture
def memory() -> MemoryLedger:
    """In-memory tables, for the modules that serve the routes without PostgreSQL."""
    return MemoryLedger()


@pytest.fixture
async def database(fresh_database: Callable[[str], Awaitable[str]]) -> str:
    return await fresh_database("ledger")


@pytest.fixture
async def ledger(topics: str, database: str) -> AsyncIterator[Ledger]:
    async with started_ledger(settings_for(topics, database)) as built:
        yield built


@pytest.fixture
async def quiet(database: str, prefix: str) -> AsyncIterator[Ledger]:
    """A started ledger with neither relay nor consumers, for the modules whose ``ledger``
    takes its events through ``consume``."""
    async with quiet_ledger(database, prefix) as built:
        yield built


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    async with ledger_client(ledger.app) as client:
        yield client
