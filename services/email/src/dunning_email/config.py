"""Settings of the email worker (``DUNNING_EMAIL_*``, plus the common ``DUNNING_*`` ones)."""

from __future__ import annotations

from dunning_core.runtime.channel_service import ChannelSettings
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict


def _own(name: str) -> AliasChoices:
    return AliasChoices(f"DUNNING_EMAIL_{name.upper()}")


class EmailSettings(ChannelSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUNNING_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = Field(default=8005, validation_alias=_own("port"))
    sendgrid_api_key: SecretStr = Field(
        default=SecretStr("SG.sandbox-key"), validation_alias=_own("sendgrid_api_key")
    )
    sendgrid_base_url: str = Field(
        default="https://api.sendgrid.com", validation_alias=_own("sendgrid_base_url")
    )
    sendgrid_webhook_public_key: str = Field(
        default="", validation_alias=_own("sendgrid_webhook_public_key")
    )
    from_address: str = Field(
        default="collections@example.com", validation_alias=_own("from_address")
    )
    from_name: str = Field(default="Acme Recovery Services", validation_alias=_own("from_name"))
    unsubscribe_secret: SecretStr = Field(
        default=SecretStr("change-me-unsubscribe-secret"),
        validation_alias=AliasChoices(
            "DUNNING_EMAIL_UNSUBSCRIBE_SECRET", "DUNNING_UNSUBSCRIBE_SECRET"
        ),
    )
    send_concurrency: int = Field(default=32, validation_alias=_own("send_concurrency"))
    group_id: str = Field(default="email", validation_alias=_own("group_id"))
