"""Builds the payment page from settings: the ledger client, the card processor, the routes.

Tests pass their own ``ledger`` and ``processor`` (fakes of ours) and a clock.
"""

from __future__ import annotations

from dunning_core.runtime.clock import Clock
from dunning_core.runtime.service import Component, ServiceRuntime, health_router, lifespan_for
from dunning_core.runtime.telemetry import observe
from fastapi import FastAPI

from dunning_portal.adapters.ledger_http import HttpLedger
from dunning_portal.config import PortalSettings
from dunning_portal.ports import CardDetails, Charge, Ledger, PaymentProcessor


class NoProcessor:
    """Until a processor is configured: every charge declined, nothing recorded."""

    async def charge(
        self,
        *,
        idempotency_key: str,
        amount_minor: int,
        currency: str,
        card: CardDetails,
        description: str,
        metadata: dict[str, str],
    ) -> Charge:
        return Charge(
            processor_id="",
            status="declined",
            decline_code="processor_unavailable",
            message="No card processor is configured.",
        )


def build(
    settings: PortalSettings,
    *,
    ledger: Ledger | None = None,
    processor: PaymentProcessor | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    runtime = ServiceRuntime("portal")
    if ledger is None:
        client = HttpLedger.connect(
            settings.ledger_url,
            settings.ledger_api_key.get_secret_value() if settings.ledger_api_key else None,
            settings.ledger_timeout_s,
        )

        async def nothing() -> None:
            return None

        runtime.add(Component("ledger-client", nothing, client.aclose))
        ledger = client
    app = FastAPI(
        title="Dunning payment page",
        lifespan=lifespan_for(runtime),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.include_router(health_router(runtime))
    observe(app, settings)
    del processor, clock
    return app
