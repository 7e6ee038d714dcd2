"""Fixtures shared by the portal's tests: the page over fakes of its ports (the ledger's
money, the processor and its webhooks), served in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dunning_testkit.portal import FakeProcessor, FakeWebhooks, MemoryMoney, portal_app


@pytest.fixture
def ledger() -> MemoryMoney:
    return MemoryMoney()


@pytest.fixture
def processor() -> FakeProcessor:
    return FakeProcessor()


@pytest.fixture
async def http(ledger: MemoryMoney, processor: FakeProcessor) -> AsyncIterator[httpx.AsyncClient]:
    app = portal_app(ledger, processor, webhooks=FakeWebhooks(processor))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        yield client
