"""Settings of the compliance gate (``DUNNING_GATE_*``, plus the common ``DUNNING_*``)."""

from __future__ import annotations

from pathlib import Path

from dunning_core.runtime.settings import ApiKeySettings, service_config


class GateSettings(ApiKeySettings):
    model_config = service_config("gate")

    port: int = 8003
    policy_path: Path | None = None
    group_id: str = "compliance-gate"
    redis_prefix: str = "gate:"
    max_records: int = 2000
    history_days: int = 35
    outage_reminder_s: float = 30.0  # while Kafka or Redis is away, a log line this often
