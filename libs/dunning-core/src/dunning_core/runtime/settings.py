"""Settings shared by every service, read from ``DUNNING_*`` environment variables."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """What every service needs: where the infrastructure is and how time flows."""

    model_config = SettingsConfigDict(env_prefix="DUNNING_", env_file=".env", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    database_url: str = "postgresql+asyncpg://dunning:dunning@127.0.0.1:15432/dunning"
    state_dir: Path = Path(".state")
    log_level: str = "INFO"
    log_json: bool = True
    clock_start: datetime | None = Field(
        default=None, description="Simulated instant at clock_epoch; unset means wall clock."
    )
    clock_epoch: float | None = Field(
        default=None, description="Unix time at which the simulated clock read clock_start."
    )
    clock_speed: float = Field(default=1.0, gt=0)
    topic_prefix: str = Field(default="", description="Prefixed to every topic (test isolation).")
    http_host: str = "127.0.0.1"

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("DUNNING_CLOCK_START must carry a UTC offset")
        return value

    def topic(self, name: str) -> str:
        return self.topic_prefix + name
