"""PostgreSQL: the async engine, and the migrations run at start-up.

Several scheduler replicas may start at once: the upgrade runs under a transaction-scoped
advisory lock, so one migrates and the others find the schema at head. The scheduler's
tables share a database with other services, so its Alembic version table has its own
name (``scheduler_alembic_version``).
"""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "scheduler_alembic_version"
_MIGRATION_LOCK = 0x5C4ED01E  # advisory lock id: "scheduler migrations"


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "dunning-scheduler"}},
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
    )


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to head, in one transaction, one replica at a time."""
    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
        await connection.run_sync(_upgrade)
