"""Settings of the email worker (``DUNNING_EMAIL_*``, plus the common ``DUNNING_*`` ones)."""

from __future__ import annotations

from dunning_core.runtime.settings import CommonSettings
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict


class EmailSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="DUNNING_EMAIL_", env_file=".env", extra="ignore")

    port: int = 8005
    sendgrid_api_key: SecretStr = SecretStr("SG.sandbox-key")
    sendgrid_base_url: str = "https://api.sendgrid.com"
    sendgrid_webhook_public_key: str = ""
    from_address: str = "collections@example.com"
    from_name: str = "Acme Recovery Services"
    unsubscribe_secret: SecretStr = SecretStr("change-me-unsubscribe-secret")
    send_concurrency: int = 32
    group_id: str = "email"
