"""Entry point: `python -m dunning_sandbox.app` serves the sandbox on 127.0.0.1:8010.

`create_app` builds everything from settings inside the lifespan (one shared
`aiohttp.ClientSession`, the webhook dispatcher, the event batcher, the signing key), so
tests can run several sandboxes side by side with their own settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from fastapi import FastAPI

from dunning_sandbox import control_api, inbound_parse, sendgrid_api, stripe_api, twilio_api
from dunning_sandbox.charge_store import ChargeStore, StripeEndpoint
from dunning_sandbox.config import SandboxSettings
from dunning_sandbox.event_batcher import EventBatcher
from dunning_sandbox.message_store import MessageStore
from dunning_sandbox.signing import EventWebhookSigner
from dunning_sandbox.state import SandboxState
from dunning_sandbox.webhook_dispatcher import WebhookDispatcher

_log = logging.getLogger("dunning_sandbox")


def _signer(settings: SandboxSettings) -> EventWebhookSigner:
    if settings.sendgrid_signing_key_path is None:
        return EventWebhookSigner.generate()
    return EventWebhookSigner.from_pem_file(settings.sendgrid_signing_key_path)


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    settings = settings or SandboxSettings()
    signer = _signer(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.callback_timeout_s),
            connector=aiohttp.TCPConnector(limit=settings.callback_concurrency),
            # Never route loopback callbacks through a proxy named in the environment.
            trust_env=False,
        )
        dispatcher = WebhookDispatcher(
            session,
            concurrency=settings.callback_concurrency,
            max_attempts=settings.callback_max_attempts,
            retry_base_s=settings.callback_retry_base_ms / 1000,
            retry_max_s=settings.callback_retry_max_ms / 1000,
        )
        batcher = EventBatcher(
            dispatcher,
            signer,
            settings.sendgrid_event_webhook_url,
            max_events=settings.event_batch_max,
            interval_s=settings.event_batch_interval_ms / 1000,
        )
        credentials = {(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())}
        if settings.twilio_api_key_sid and settings.twilio_api_key_secret:
            credentials.add(
                (settings.twilio_api_key_sid, settings.twilio_api_key_secret.get_secret_value())
            )
        state = app.state.sandbox = SandboxState(
            settings=settings,
            session=session,
            dispatcher=dispatcher,
            batcher=batcher,
            signer=signer,
            store=MessageStore(settings.max_stored_messages),
            charges=ChargeStore(settings.max_stored_charges),
            stripe_endpoint=StripeEndpoint(
                settings.stripe_webhook_url,
                settings.stripe_webhook_secret.get_secret_value(),
                settings.stripe_dispute_delay_ms / 1000,
                settings.stripe_processing_delay_ms / 1000,
            ),
            twilio_credentials=frozenset(credentials),
        )
        dispatcher.start()
        try:
            yield
        finally:
            await state.drain(timeout_s=2.0)
            await dispatcher.stop()
            await session.close()

    app = FastAPI(
        title="Dunning provider sandbox",
        summary="Twilio Messages, SendGrid Mail Send and Stripe PaymentIntents stand-ins "
        "with signed webhooks",
        lifespan=lifespan,
    )
    app.include_router(control_api.router)
    app.include_router(twilio_api.router)
    app.include_router(sendgrid_api.router)
    app.include_router(inbound_parse.router)
    app.include_router(stripe_api.router)
    return app


def main() -> None:
    settings = SandboxSettings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    _log.info(
        "provider sandbox on %s:%d, SendGrid Event Webhook public key %s",
        settings.host,
        settings.port,
        "from " + str(settings.sendgrid_signing_key_path)
        if settings.sendgrid_signing_key_path
        else "generated for this run (GET /_sandbox/sendgrid/public-key)",
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=settings.access_log,
    )


if __name__ == "__main__":
    main()
