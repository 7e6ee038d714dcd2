"""Settings of the payment page (``DUNNING_PORTAL_*``, plus the common ``DUNNING_*`` ones).

The token key is shared with the scheduler, which signs the links: one variable,
``DUNNING_PAYLINK_KEY``, read by both. The processor's webhook secret has its shared name too
(``DUNNING_STRIPE_WEBHOOK_SECRET``).
"""

from __future__ import annotations

from dunning_core.runtime.settings import CommonSettings, service_config
from pydantic import AliasChoices, Field, SecretStr


class PortalSettings(CommonSettings):
    model_config = service_config("portal")

    port: int = 8008
    # Where the ledger's REST API is, and the key (role "portal") the page uses there.
    ledger_url: str = "http://127.0.0.1:8001"
    ledger_api_key: SecretStr | None = None
    ledger_timeout_s: float = Field(default=10.0, gt=0, le=120)
    paylink_key: SecretStr = Field(
        default=SecretStr("change-me-paylink-key"),
        validation_alias=AliasChoices(
            "DUNNING_PAYLINK_KEY", "DUNNING_PORTAL_PAYLINK_KEY", "paylink_key"
        ),
    )
    # The card processor: Stripe's API (or the provider sandbox's, http://127.0.0.1:8010).
    # Without a secret key no card is charged (the page says card payments are unavailable).
    stripe_secret_key: SecretStr | None = None
    stripe_api_base: str = "https://api.stripe.com"
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "DUNNING_STRIPE_WEBHOOK_SECRET",
            "DUNNING_PORTAL_STRIPE_WEBHOOK_SECRET",
            "stripe_webhook_secret",
        ),
    )
    # Who is named as collecting when the debt is placed with a third party (the scheduler's
    # collector_name and collector_phone).
    collector_name: str = "Acme Recovery Services"
    collector_phone: str = "1-800-555-0199"
