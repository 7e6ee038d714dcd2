"""The CLI's tests against the ledger's real routes over in-memory tables (no network)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_testkit.ledger import memory_ledger_app
from dunning_testkit.ledger_memory import MemoryLedger
from dunning_testkit.paths import ADMIN_KEY
from fastapi.testclient import TestClient


@pytest.fixture
def memory() -> MemoryLedger:
    """The ledger's in-memory tables (a test module fills its own by redefining this)."""
    return MemoryLedger()


@pytest.fixture
async def ledger(memory: MemoryLedger, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """A ledger over ``memory`` the CLI's ``httpx.request`` reaches in-process, with the
    admin key set."""
    client = TestClient(memory_ledger_app(memory), base_url="http://ledger")

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        response: httpx.Response = client.request(method, httpx.URL(url).path, **kwargs)
        return response

    monkeypatch.setattr(httpx, "request", request)
    monkeypatch.setenv("DUNNING_API_KEY", ADMIN_KEY)
    return client
