"""Settings of the ledger: the common ``DUNNING_*`` ones plus its own ``DUNNING_LEDGER_*``."""

from __future__ import annotations

import os
from typing import Annotated

from dunning_core.runtime.settings import ApiKeySettings, service_config
from pydantic import Field

SERVICE = "ledger"  # the events' source, and the producer's client id
# Seconds an operator's signal may be held before it is answered (0: answered at once).
SignalWait = Annotated[float, Field(ge=0)]


class LedgerSettings(ApiKeySettings):
    """Read from the environment; field ``port`` is ``DUNNING_LEDGER_PORT``."""

    model_config = service_config("ledger")

    port: int = 8001
    group_id: str = "ledger"
    db_pool_size: int = Field(default=10, ge=1)
    max_records: int = Field(default=1000, ge=1, description="Events per consumer batch.")
    outbox_batch: int = Field(default=1000, ge=1, description="Rows per relay batch.")
    outbox_poll_ms: int = Field(
        default=200, ge=10, description="Relay poll interval when no NOTIFY arrives."
    )
    signal_publish_wait_s: SignalWait = Field(
        default=10.0,
        description="An operator's signal is answered once it is on Kafka "
        "(the workers then hold sends until it is applied), or after this many seconds.",
    )
    signal_applied_groups: str = Field(
        default="sms-signals,email-signals",
        description="The channel workers' signals consumer groups (comma-separated) an "
        "operator's signal is answered after, once those reading it have applied it.",
    )
    signal_applied_wait_s: SignalWait = Field(
        default=15.0,
        description="How long an operator's signal waits for the channel workers "
        "(above their provider call timeout); then answered with applied false.",
    )
    outbox_retention_hours: float = Field(
        default=24, gt=0, description="How long published outbox rows are kept."
    )
    migrate_on_start: bool = True
    consume: bool = Field(default=True, description="Run the Kafka consumers.")
    relay: bool = Field(default=True, description="Run the outbox relay.")
    due_pass: bool = Field(default=True, description="Run the periodic pass over due dates.")
    due_pass_interval_s: float = Field(
        default=10.0, gt=0, description="Real seconds between passes (the clock may run fast)."
    )
    task_lease_s: float = Field(
        default=1800, gt=0, description="How long an agent's claim on a task lasts (clock s)."
    )
    terms_file: str = Field(
        default="", description="Payment terms YAML; empty: the packaged terms.yaml."
    )
    max_body_bytes: int = Field(
        default=2 * 1024**3,
        ge=1024,
        description="Largest request body accepted (413): a CSV or JSON Lines import streams "
        "up to it, never held whole.",
    )
    import_workers: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)),
        ge=0,
        description="Processes that check a streamed import's rows (default: one a core); "
        "0 checks them in a thread of the ledger.",
    )
    max_json_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest body read whole (JSON): the smaller of this and max_body_bytes (413).",
    )

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL as plain asyncpg takes it (no SQLAlchemy driver suffix)."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
