"""Settings of the compliance gate (``DUNNING_GATE_*``, plus the common ``DUNNING_*``)."""

from __future__ import annotations

from pathlib import Path

from dunning_core.runtime.settings import CommonSettings, service_config


class GateSettings(CommonSettings):
    model_config = service_config("gate")

    port: int = 8003
    policy_path: Path | None = None
    group_id: str = "compliance-gate"
    redis_prefix: str = "gate:"
    max_records: int = 2000
    history_days: int = 35
