"""Settings of the provider sandbox, read from `DUNNING_SANDBOX_*` environment variables.

The defaults describe a self-contained local sandbox: fixed fake credentials that the
sms and email workers are configured with in the local stack, and no webhook targets
until they are configured (status callbacks still go wherever each message's
`StatusCallback` says).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")

# The same fake credentials the sms and email workers default to.
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"
DEFAULT_SENDGRID_API_KEY = "SG.sandbox-key"
DEFAULT_STRIPE_SECRET_KEY = "sk_test_sandbox"
DEFAULT_STRIPE_WEBHOOK_SECRET = "whsec_sandbox"


def default_signing_key_path() -> Path:
    """`$DUNNING_STATE_DIR/sandbox/sendgrid-event-webhook.pem` (state dir: `.state`)."""
    state_dir = Path(os.environ.get("DUNNING_STATE_DIR", ".state"))
    return state_dir / "sandbox" / "sendgrid-event-webhook.pem"


class SandboxSettings(BaseSettings):
    """Everything the sandbox can be told; secrets are fake but still kept out of reprs."""

    model_config = SettingsConfigDict(env_prefix="DUNNING_SANDBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8010, ge=0, le=65535)
    log_level: str = "info"
    access_log: bool = False

    twilio_account_sid: str = DEFAULT_ACCOUNT_SID
    twilio_auth_token: SecretStr = SecretStr(DEFAULT_AUTH_TOKEN)
    # An API key (SK…) and its secret are accepted as Basic credentials too, as on Twilio.
    twilio_api_key_sid: str | None = None
    twilio_api_key_secret: SecretStr | None = None
    twilio_inbound_url: str | None = None

    sendgrid_api_key: SecretStr = SecretStr(DEFAULT_SENDGRID_API_KEY)
    sendgrid_event_webhook_url: str | None = None
    # Our Inbound Parse URL, secret path token included (e-mailed replies go there).
    sendgrid_inbound_url: str | None = None
    # PEM (PKCS#8) of the ECDSA P-256 key that signs the Event Webhook. If the file is
    # missing it is created, so the public key stays the same across restarts; None
    # means a fresh key per run.
    sendgrid_signing_key_path: Path | None = Field(default_factory=default_signing_key_path)

    stripe_secret_key: SecretStr = SecretStr(DEFAULT_STRIPE_SECRET_KEY)
    # Where Stripe events (charge.dispute.created) go, signed with the endpoint secret.
    stripe_webhook_url: str | None = None
    stripe_webhook_secret: SecretStr = SecretStr(DEFAULT_STRIPE_WEBHOOK_SECRET)
    # How long after a succeeded charge with the dispute test card its dispute is opened.
    stripe_dispute_delay_ms: int = Field(default=5_000, ge=0)
    # How long a payment with a delayed test card stays `processing` before it ends.
    stripe_processing_delay_ms: int = Field(default=2_000, ge=0)

    callback_delay_ms: int = Field(default=50, ge=0)
    callback_max_attempts: int = Field(default=8, ge=1)
    callback_retry_base_ms: int = Field(default=200, ge=1)
    callback_retry_max_ms: int = Field(default=5_000, ge=1)
    callback_concurrency: int = Field(default=64, ge=1)
    callback_timeout_s: float = Field(default=5.0, gt=0)
    # Callbacks go to loopback only; container deployments may name further hosts here.
    callback_allowed_hosts: list[str] = Field(default_factory=list)

    event_batch_max: int = Field(default=100, ge=1)
    event_batch_interval_ms: int = Field(default=100, ge=1)

    max_stored_messages: int = Field(default=200_000, ge=1)
    max_stored_charges: int = Field(default=100_000, ge=1)

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid_shape(cls, value: str) -> str:
        if not _ACCOUNT_SID.match(value):
            raise ValueError("must be 'AC' followed by 32 lowercase hex digits")
        return value

    @field_validator("sendgrid_signing_key_path", mode="before")
    @classmethod
    def _empty_path_means_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("stripe_secret_key")
    @classmethod
    def _secret_key_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("sk_test_"):
            raise ValueError("the sandbox takes test-mode secret keys only ('sk_test_…')")
        return value

    @field_validator("twilio_api_key_sid")
    @classmethod
    def _api_key_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("SK"):
            raise ValueError("an API key sid starts with 'SK'")
        return value
