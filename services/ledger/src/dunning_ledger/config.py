"""Settings of the ledger: the common ``DUNNING_*`` ones plus ``DUNNING_LEDGER_*``."""

from __future__ import annotations

from dunning_core.runtime.settings import CommonSettings
from pydantic import Field


class LedgerSettings(CommonSettings):
    """Read from the environment; field ``ledger_port`` is ``DUNNING_LEDGER_PORT``."""

    ledger_port: int = 8001
    ledger_group_id: str = "ledger"
    ledger_db_pool_size: int = Field(default=10, ge=1)
    ledger_max_records: int = Field(default=1000, ge=1, description="Events per consumer batch.")
    ledger_outbox_batch: int = Field(default=1000, ge=1, description="Rows per relay batch.")
    ledger_outbox_poll_ms: int = Field(
        default=200, ge=10, description="Relay poll interval when no NOTIFY arrives."
    )
    ledger_outbox_retention_hours: float = Field(
        default=24, gt=0, description="How long published outbox rows are kept."
    )
    ledger_migrate_on_start: bool = True
    ledger_consume: bool = Field(default=True, description="Run the Kafka consumers.")
    ledger_relay: bool = Field(default=True, description="Run the outbox relay.")

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL as plain asyncpg takes it (no SQLAlchemy driver suffix)."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
