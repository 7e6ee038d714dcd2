"""Fixtures shared by the sandbox's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dunning_sandbox.app import create_app
from dunning_sandbox.config import SandboxSettings


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """A sandbox in-process (no port), with the test module's ACCOUNT, TOKEN and KEY.

    (A module that runs the sandbox over real HTTP defines its own ``sandbox``.)"""
    module = request.module
    settings = SandboxSettings(
        twilio_account_sid=module.ACCOUNT,
        twilio_auth_token=module.TOKEN,
        sendgrid_api_key=module.KEY,
        sendgrid_signing_key_path=None,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb") as client,
    ):
        yield client
