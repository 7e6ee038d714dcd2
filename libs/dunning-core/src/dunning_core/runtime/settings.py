"""Settings: the ones every service shares (``DUNNING_*``) and one helper for a service's own.

A service declares its own fields by their plain names and reads them under its prefix::

    class SmsSettings(CommonSettings):
        model_config = service_config("sms")   # port <- DUNNING_SMS_PORT
        port: int = 8004

The shared fields keep their ``DUNNING_*`` names whatever the prefix (they carry their
variable name as an alias, which pydantic-settings reads without the prefix).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _shared(name: str, default: Any = None, **options: Any) -> Any:
    """A shared setting: read from ``DUNNING_<NAME>`` whatever the service's prefix, and
    by its field name for keyword construction in code."""
    return Field(default, validation_alias=AliasChoices(f"DUNNING_{name.upper()}", name), **options)


def service_config(service: str, **extra: Any) -> SettingsConfigDict:
    """The settings config of one service: its own fields read as ``DUNNING_<SERVICE>_*``."""
    config = SettingsConfigDict(
        env_prefix=f"DUNNING_{service.upper().replace('-', '_')}_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )
    config.update(extra)  # type: ignore[typeddict-item]
    return config


class CommonSettings(BaseSettings):
    """What every service needs: where the infrastructure is and how time flows."""

    model_config = SettingsConfigDict(
        env_prefix="DUNNING_", env_file=".env", extra="ignore", populate_by_name=True
    )

    kafka_bootstrap: str = _shared("kafka_bootstrap", "127.0.0.1:19092")
    redis_url: str = _shared("redis_url", "redis://127.0.0.1:16379/0")
    database_url: str = _shared(
        "database_url", "postgresql+asyncpg://dunning:dunning@127.0.0.1:15432/dunning"
    )
    state_dir: Path = _shared("state_dir", Path(".state"))
    log_level: str = _shared("log_level", "INFO")
    log_json: bool = _shared("log_json", True)
    clock_start: datetime | None = _shared(
        "clock_start", description="Simulated instant at clock_epoch; unset means wall clock."
    )
    clock_epoch: float | None = _shared(
        "clock_epoch", description="Unix time at which the simulated clock read clock_start."
    )
    clock_speed: float = _shared("clock_speed", default=1.0, gt=0)
    topic_prefix: str = _shared(
        "topic_prefix", "", description="Prefixed to every topic (test isolation)."
    )
    http_host: str = _shared("http_host", "127.0.0.1")
    traces_file: bool = _shared(
        "traces_file",
        False,
        description="Without an OTLP endpoint, write spans to <state_dir>/traces/<service>.jsonl.",
    )
    metrics_token: SecretStr | None = _shared(
        "metrics_token",
        description="The bearer token GET /metrics asks for; unset: /metrics refuses all.",
    )

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("DUNNING_CLOCK_START must carry a UTC offset")
        return value

    def topic(self, name: str) -> str:
        return self.topic_prefix + name


class ApiKeySettings(CommonSettings):
    """The common settings of a service with an API (ledger, scheduler, gate): the secrets
    its key verifier needs. Workers and webhook ingresses are not given them."""

    bootstrap_admin_key: SecretStr | None = _shared(
        "bootstrap_admin_key",
        description="An admin API key accepted by every service, to create the first keys.",
    )
    auth_pepper: SecretStr | None = _shared(
        "auth_pepper",
        description="The secret under which API keys are hashed (HMAC-SHA256); one for all.",
    )

    @field_validator("bootstrap_admin_key", "auth_pepper", mode="before")
    @classmethod
    def _long_enough(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if len(str(value.get_secret_value() if isinstance(value, SecretStr) else value)) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value
