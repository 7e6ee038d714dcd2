"""Settings of the scheduler: the common ``DUNNING_*`` ones plus its own ``DUNNING_SCHEDULER_*``.

The common fields keep their shared names (one ``DUNNING_CLOCK_START`` for every service),
so only the scheduler's own fields carry the service prefix.
"""

from __future__ import annotations

from pathlib import Path

from dunning_core.runtime.settings import ApiKeySettings, service_config
from pydantic import AliasChoices, Field, SecretStr


class SchedulerSettings(ApiKeySettings):
    model_config = service_config("scheduler")

    port: int = 8002
    policy_path: Path | None = None
    group_id: str = "scheduler"
    max_records: int = Field(default=1000, ge=1)
    planner_interval_s: float = Field(default=0.2, gt=0, le=60)
    planner_batch: int = Field(default=500, ge=1, le=5000)
    planner_workers: int = Field(default=2, ge=1, le=16)
    planner_enabled: bool = True
    migrate_on_start: bool = True
    db_pool_size: int = Field(default=10, ge=1)
    collector_name: str = "Acme Recovery Services"
    collector_phone: str = "1-800-555-0199"
    # The payment page (services/portal): links read <payments_url>/p/<token>.
    payments_url: str = "https://pay.example.com"
    unsubscribe_url: str = Field(
        default="https://collections.example.com/unsubscribe", pattern=r"^https://"
    )
    unsubscribe_mailto: str = "unsubscribe@collections.example.com"
    # Must equal the email worker's secret, which checks the tokens: one shared variable
    # (DUNNING_UNSUBSCRIBE_SECRET) is accepted, as is the email worker's own name.
    unsubscribe_secret: SecretStr = Field(
        default=SecretStr("change-me-unsubscribe-secret"),
        validation_alias=AliasChoices(
            "DUNNING_SCHEDULER_UNSUBSCRIBE_SECRET",
            "DUNNING_UNSUBSCRIBE_SECRET",
            "DUNNING_EMAIL_UNSUBSCRIBE_SECRET",
            "unsubscribe_secret",
        ),
    )
    # Signs the payment link of every message (dunning_core.paylink); the payment page checks
    # it with the same key: one shared variable, DUNNING_PAYLINK_KEY.
    paylink_key: SecretStr = Field(
        default=SecretStr("change-me-paylink-key"),
        validation_alias=AliasChoices(
            "DUNNING_PAYLINK_KEY", "DUNNING_SCHEDULER_PAYLINK_KEY", "paylink_key"
        ),
    )
    # A link opens the page until this many days after its message's planned send.
    paylink_days: int = Field(default=30, ge=1, le=365)
