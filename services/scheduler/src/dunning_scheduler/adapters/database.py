"""PostgreSQL: the async engine, and the migrations run at start-up.

Several scheduler replicas may start at once: the upgrade runs under a transaction-scoped
advisory lock, so one migrates and the others find the schema at head. The scheduler's
tables share a database with other services, so its Alembic version table has its own
name (``scheduler_alembic_version``).
"""

from __future__ import annotations

from pathlib import Path

from dunning_core.runtime import postgres
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "scheduler_alembic_version"
_MIGRATION_LOCK = 0x5C4ED01E  # advisory lock id: "scheduler migrations"


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return postgres.make_engine(url, pool_size, "dunning-scheduler")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to head, in one transaction, one replica at a time."""
    await postgres.migrate(engine, MIGRATIONS, _MIGRATION_LOCK)
