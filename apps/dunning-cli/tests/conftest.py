"""The CLI's tests against the ledger's real routes over in-memory tables (no network)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_testkit.ledger import memory_ledger_app
from dunning_testkit.paths import ADMIN_KEY
from fastapi.testclient import TestClient


@pytest.fixture
async def ledger(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """A ledger the CLI's ``httpx.request`` reaches in-process, with the admin key set."""
    client = TestClient(memory_ledger_app(), base_url="http://ledger")

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        response: httpx.Response = client.request(method, httpx.URL(url).path, **kwargs)
        return response

    monkeypatch.setattr(httpx, "request", request)
    monkeypatch.setenv("DUNNING_API_KEY", ADMIN_KEY)
    return client
