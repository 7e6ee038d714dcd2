"""Settings of the operations dashboard (``DUNNING_OPS_*``, plus the common ``DUNNING_*`` ones).

The dashboard verifies API keys as the scheduler and the gate do (``ApiKeySettings``: the
bootstrap admin key and the pepper, and the ``auth.keys.v1`` topic), and reads every
service's ``/metrics`` with the shared ``DUNNING_METRICS_TOKEN``.
"""

from __future__ import annotations

from dunning_core.runtime.settings import ApiKeySettings, service_config
from pydantic import Field, SecretStr

# Every service whose /health (and /metrics) the pipeline page shows, by its services.conf name.
LOCAL_SERVICES = {
    "ledger": "http://127.0.0.1:8001",
    "scheduler": "http://127.0.0.1:8002",
    "gate": "http://127.0.0.1:8003",
    "sms": "http://127.0.0.1:8004",
    "email": "http://127.0.0.1:8005",
    "sms-ingress": "http://127.0.0.1:8006",
    "email-ingress": "http://127.0.0.1:8007",
    "portal": "http://127.0.0.1:8008",
}


class OpsSettings(ApiKeySettings):
    model_config = service_config("ops")

    port: int = 8009
    ledger_url: str = "http://127.0.0.1:8001"
    gate_url: str = "http://127.0.0.1:8003"
    scheduler_url: str = "http://127.0.0.1:8002"
    services: dict[str, str] = Field(
        default_factory=lambda: dict(LOCAL_SERVICES),
        description="name -> base URL of every service the pipeline page probes (JSON).",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    session_key: SecretStr | None = Field(
        default=None,
        description="Signs the session cookie and seals the sessions kept in Redis (e.g. "
        "`openssl rand -hex 32`); every replica needs the same one. Unset: a random key per "
        "process, so a restart signs everyone out.",
    )
    session_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    secure_cookie: bool = Field(
        default=False, description="Mark the session cookie Secure (set it behind TLS)."
    )
