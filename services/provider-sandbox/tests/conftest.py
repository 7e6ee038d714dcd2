"""Fixtures shared by the sandbox's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from dunning_sandbox.app import create_app
from dunning_sandbox.config import SandboxSettings
from dunning_testkit.servers import WebhookRecorder, recording_server, sandbox_server
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


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


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookRecorder]:
    with recording_server(body="<Response/>", media_type="text/xml") as recorder:
        yield recorder


@pytest.fixture(scope="module")
def sandbox_over_http(receiver: WebhookRecorder, request: pytest.FixtureRequest) -> Iterator[str]:
    """A sandbox on a port, with the test module's ACCOUNT, TOKEN and API_KEY, sending its
    webhooks to ``receiver`` (a module overrides ``sandbox`` with it)."""
    module = request.module
    base = receiver.base_url
    with sandbox_server(
        twilio_account_sid=module.ACCOUNT,
        twilio_auth_token=module.TOKEN,
        sendgrid_api_key=module.API_KEY,
        sendgrid_event_webhook_url=f"{base}/sendgrid/events",
        twilio_inbound_url=f"{base}/twilio/inbound",
        callback_delay_ms=5,
        callback_retry_base_ms=20,
        event_batch_interval_ms=20,
    ) as url:
        yield url


class SandboxHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's documented extension point: send api.twilio.com requests to the sandbox."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=10)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(
            method, url.replace("https://api.twilio.com", self.base_url), *args, **kwargs
        )


@pytest.fixture(scope="module")
def twilio(sandbox_over_http: str, request: pytest.FixtureRequest) -> Client:
    """Twilio's SDK client, sending to the module's sandbox over HTTP."""
    module = request.module
    return Client(module.ACCOUNT, module.TOKEN, http_client=SandboxHttpClient(sandbox_over_http))
