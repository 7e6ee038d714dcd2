"""The ledger tests' HTTP client: over ASGI to the ``ledger`` fixture each module builds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dunning_ledger.bootstrap import Ledger


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ledger.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
        yield client
