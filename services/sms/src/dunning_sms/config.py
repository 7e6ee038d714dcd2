"""Settings of the sms worker (``DUNNING_SMS_*``, plus the common ``DUNNING_*`` ones)."""

from __future__ import annotations

from dunning_core.runtime.channel_service import ChannelSettings
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict


def _own(name: str) -> AliasChoices:
    return AliasChoices(f"DUNNING_SMS_{name.upper()}")


class SmsSettings(ChannelSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUNNING_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = Field(default=8004, validation_alias=_own("port"))
    twilio_account_sid: str = Field(
        default="AC00000000000000000000000000000000", validation_alias=_own("twilio_account_sid")
    )
    twilio_auth_token: SecretStr = Field(
        default=SecretStr("sandbox-auth-token"), validation_alias=_own("twilio_auth_token")
    )
    twilio_from_number: str = Field(
        default="+15005550006", validation_alias=_own("twilio_from_number")
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None, validation_alias=_own("twilio_messaging_service_sid")
    )
    twilio_base_url: str = Field(
        default="https://api.twilio.com", validation_alias=_own("twilio_base_url")
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8004", validation_alias=_own("public_base_url")
    )
    send_concurrency: int = Field(default=32, validation_alias=_own("send_concurrency"))
    group_id: str = Field(default="sms", validation_alias=_own("group_id"))
