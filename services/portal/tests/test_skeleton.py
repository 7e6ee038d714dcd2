"""The payment page's process: health answers, and nothing else is served without a token."""

from __future__ import annotations

import httpx
import pytest
from dunning_portal.bootstrap import build
from dunning_portal.config import PortalSettings


async def test_health_and_no_docs() -> None:
    app = build(PortalSettings(ledger_url="http://127.0.0.1:9"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/health/live")).status_code == 200
        for path in ("/docs", "/openapi.json", "/redoc", "/"):
            assert (await http.get(path)).status_code == 404


def test_the_token_key_is_the_shared_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_PAYLINK_KEY", "shared-key-of-scheduler-and-portal")
    monkeypatch.setenv("DUNNING_PORTAL_PORT", "8123")
    settings = PortalSettings()
    assert settings.paylink_key.get_secret_value() == "shared-key-of-scheduler-and-portal"
    assert settings.port == 8123
