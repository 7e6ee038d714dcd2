"""Settings of the sms worker (``DUNNING_SMS_*``, plus the common ``DUNNING_*`` ones)."""

from __future__ import annotations

from dunning_core.runtime.settings import CommonSettings
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict


class SmsSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="DUNNING_SMS_", env_file=".env", extra="ignore")

    port: int = 8004
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr("sandbox-auth-token")
    twilio_from_number: str = "+15005550006"
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    public_base_url: str = "http://127.0.0.1:8004"
    send_concurrency: int = 32
    group_id: str = "sms"
