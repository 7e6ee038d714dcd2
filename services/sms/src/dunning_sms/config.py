"""Settings of the sms worker and its webhook ingress (``DUNNING_SMS_*``, plus the common
``DUNNING_*`` ones)."""

from __future__ import annotations

from dunning_channels.config import ChannelSettings
from dunning_core.runtime.settings import service_config
from pydantic import SecretStr


class SmsSettings(ChannelSettings):
    model_config = service_config("sms")

    port: int = 8004
    # The webhook ingress (python -m dunning_sms.ingress): what Twilio calls.
    ingress_port: int = 8006
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr("sandbox-auth-token")
    twilio_from_number: str = "+15005550006"
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    public_base_url: str = "http://127.0.0.1:8006"
    # Who the HELP reply and the confirmations name, and how to reach them (CTIA).
    creditor_name: str = "Dunning Recovery Services"
    creditor_contact: str = "1-800-555-0100"
    send_concurrency: int = 32
    group_id: str = "sms"
