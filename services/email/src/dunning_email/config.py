"""Settings of the email worker and its webhook ingress (``DUNNING_EMAIL_*``, plus the
common ``DUNNING_*`` ones)."""

from __future__ import annotations

from dunning_channels.config import ChannelSettings
from dunning_core.runtime.settings import service_config
from pydantic import AliasChoices, Field, SecretStr


class EmailSettings(ChannelSettings):
    model_config = service_config("email")

    port: int = 8005
    # The webhook ingress (python -m dunning_email.ingress): SendGrid's Event Webhook and
    # the unsubscribe links.
    ingress_port: int = 8007
    sendgrid_api_key: SecretStr = SecretStr("SG.sandbox-key")
    sendgrid_base_url: str = "https://api.sendgrid.com"
    sendgrid_webhook_public_key: str = ""
    from_address: str = "collections@example.com"
    from_name: str = "Acme Recovery Services"
    unsubscribe_secret: SecretStr = Field(
        default=SecretStr("change-me-unsubscribe-secret"),
        # the scheduler signs the links with the same secret, under the shared name
        validation_alias=AliasChoices(
            "DUNNING_EMAIL_UNSUBSCRIBE_SECRET", "DUNNING_UNSUBSCRIBE_SECRET", "unsubscribe_secret"
        ),
    )
    # Inbound Parse's secret: SendGrid posts replies to /webhooks/sendgrid/inbound/<token>.
    inbound_token: SecretStr = SecretStr("sandbox-inbound-token")
    send_concurrency: int = 32
    group_id: str = "email"
