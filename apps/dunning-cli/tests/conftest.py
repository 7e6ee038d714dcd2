"""The CLI's tests against the ledger's real routes over in-memory tables (no network)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_ledger.bootstrap import build_ledger
from dunning_ledger.config import LedgerSettings
from dunning_testkit.ledger_memory import MemoryLedger
from dunning_testkit.paths import ADMIN_KEY
from fastapi.testclient import TestClient

UNREACHABLE = "postgresql+asyncpg://dunning:dunning@127.0.0.1:9/nowhere"


@pytest.fixture
async def ledger(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """A ledger the CLI's ``httpx.request`` reaches in-process, with the admin key set."""
    built = build_ledger(LedgerSettings(database_url=UNREACHABLE), transactions=MemoryLedger())
    client = TestClient(built.app, base_url="http://ledger")

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        response: httpx.Response = client.request(method, httpx.URL(url).path, **kwargs)
        return response

    monkeypatch.setattr(httpx, "request", request)
    monkeypatch.setenv("DUNNING_API_KEY", ADMIN_KEY)
    return client
