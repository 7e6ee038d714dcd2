"""Settings of the scheduler: the common ``DUNNING_*`` ones plus its own ``DUNNING_SCHEDULER_*``.

The common fields keep their shared names (one ``DUNNING_CLOCK_START`` for every service),
so only the scheduler's own fields carry the service prefix.
"""

from __future__ import annotations

from pathlib import Path

from dunning_core.runtime.settings import CommonSettings
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict


def _own(name: str, *also: str) -> AliasChoices:
    return AliasChoices(f"DUNNING_SCHEDULER_{name.upper()}", *also)


class SchedulerSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUNNING_", env_file=".env", extra="ignore", populate_by_name=True
    )

    port: int = Field(default=8002, validation_alias=_own("port"))
    policy_path: Path | None = Field(default=None, validation_alias=_own("policy_path"))
    group_id: str = Field(default="scheduler", validation_alias=_own("group_id"))
    max_records: int = Field(default=1000, ge=1, validation_alias=_own("max_records"))
    planner_interval_s: float = Field(
        default=0.2, gt=0, le=60, validation_alias=_own("planner_interval_s")
    )
    planner_batch: int = Field(default=500, ge=1, le=5000, validation_alias=_own("planner_batch"))
    planner_workers: int = Field(default=2, ge=1, le=16, validation_alias=_own("planner_workers"))
    planner_enabled: bool = Field(default=True, validation_alias=_own("planner_enabled"))
    db_pool_size: int = Field(default=10, ge=1, validation_alias=_own("db_pool_size"))
    collector_name: str = Field(
        default="Acme Recovery Services", validation_alias=_own("collector_name")
    )
    collector_phone: str = Field(default="1-800-555-0199", validation_alias=_own("collector_phone"))
    payments_url: str = Field(
        default="https://pay.example.com/accounts", validation_alias=_own("payments_url")
    )
    unsubscribe_url: str = Field(
        default="https://collections.example.com/unsubscribe",
        validation_alias=_own("unsubscribe_url"),
        pattern=r"^https://",
    )
    unsubscribe_mailto: str = Field(
        default="unsubscribe@collections.example.com", validation_alias=_own("unsubscribe_mailto")
    )
    # Must equal the email worker's secret, which checks the tokens: one shared variable
    # (DUNNING_UNSUBSCRIBE_SECRET) is accepted, as is the email worker's own name.
    unsubscribe_secret: SecretStr = Field(
        default=SecretStr("change-me-unsubscribe-secret"),
        validation_alias=_own(
            "unsubscribe_secret", "DUNNING_UNSUBSCRIBE_SECRET", "DUNNING_EMAIL_UNSUBSCRIBE_SECRET"
        ),
    )
