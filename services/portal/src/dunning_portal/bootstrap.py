"""Builds the payment page from settings: the ledger client, the card processor, the routes.

Tests pass their own ``Ports`` (fakes of ours: the ledger, the processor, its webhooks) and a
clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from dunning_core.runtime.api_docs import DOCS_OFF
from dunning_core.runtime.clock import Clock, clock_from
from dunning_core.runtime.service import ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import FastAPI

from dunning_portal.adapters.ledger_http import HttpLedger
from dunning_portal.adapters.stripe_processor import StripeProcessor
from dunning_portal.adapters.stripe_webhooks import StripeWebhooks
from dunning_portal.api import router
from dunning_portal.config import PortalSettings
from dunning_portal.page import Pages
from dunning_portal.ports import Ledger, PaymentProcessor, ProcessorWebhooks
from dunning_portal.service import Portal


@dataclass(frozen=True)
class Ports:
    """What the page talks to, given by tests (fakes); one left None is built from settings
    (the card processor and its webhooks only when a Stripe key is set)."""

    ledger: Ledger | None = None
    processor: PaymentProcessor | None = None
    webhooks: ProcessorWebhooks | None = None


def build(
    settings: PortalSettings, ports: Ports | None = None, clock: Clock | None = None
) -> FastAPI:
    given = ports or Ports()
    ledger, processor, webhooks = given.ledger, given.processor, given.webhooks
    clock = clock or clock_from(settings.clock_start, settings.clock_speed, settings.clock_epoch)
    key = settings.paylink_key.get_secret_value()
    runtime = ServiceRuntime("portal")
    if ledger is None:
        client = HttpLedger.connect(
            settings.ledger_url,
            settings.ledger_api_key.get_secret_value() if settings.ledger_api_key else None,
            settings.ledger_timeout_s,
        )
        runtime.add_closing("ledger-client", client.aclose)
        ledger = client
    if processor is None and settings.stripe_secret_key is not None:
        stripe = StripeProcessor(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            api_base=settings.stripe_api_base,
        )
        runtime.add_closing("stripe-client", stripe.aclose)
        processor = stripe
        if webhooks is None and settings.stripe_webhook_secret is not None:
            webhooks = StripeWebhooks(settings.stripe_webhook_secret.get_secret_value(), stripe)
    app = FastAPI(
        title="Dunning payment page",
        lifespan=lifespan_for(runtime),
        openapi_url=None,
        **DOCS_OFF,
    )
    app.include_router(health_router(runtime))
    portal = Portal(ledger=ledger, processor=processor, clock=clock, paylink_key=key)
    pages = Pages(key, settings.collector_name, settings.collector_phone, clock)
    app.include_router(router(portal, pages, webhooks))
    observe(app, settings)
    return app
