"""Settings of the compliance gate (``DUNNING_GATE_*``, plus the common ``DUNNING_*``)."""

from __future__ import annotations

from pathlib import Path

from dunning_core.runtime.settings import CommonSettings
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict


def _own(name: str) -> AliasChoices:
    return AliasChoices(f"DUNNING_GATE_{name.upper()}")


class GateSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUNNING_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = Field(default=8003, validation_alias=_own("port"))
    policy_path: Path | None = Field(default=None, validation_alias=_own("policy_path"))
    group_id: str = Field(default="compliance-gate", validation_alias=_own("group_id"))
    redis_prefix: str = Field(default="gate:", validation_alias=_own("redis_prefix"))
    max_records: int = Field(default=2000, validation_alias=_own("max_records"))
    history_days: int = Field(default=35, validation_alias=_own("history_days"))
