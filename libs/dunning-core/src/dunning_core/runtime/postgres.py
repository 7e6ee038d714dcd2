"""PostgreSQL for the services that own tables: the engine, and Alembic at start-up.

A service with tables keeps its revisions in its package (``<service>/migrations``) and
depends on ``dunning-core[postgres]`` (SQLAlchemy, Alembic); nothing else imports this.
``make_engine`` is the async engine (asyncpg, orjson for JSON columns). ``migrate``
upgrades to head inside one transaction holding a PostgreSQL advisory lock, so replicas
starting together find the schema either untouched or at head. ``run_env`` is the body
of the service's ``migrations/env.py``: offline SQL, the service's own connection at
start-up, or a fresh async engine from the command line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

IncludeName = Callable[[str | None, str, Any], bool]


def make_engine(url: str, pool_size: int, application_name: str) -> AsyncEngine:
    # Looked up on the module at each call: the SQLAlchemy instrumentation (telemetry)
    # replaces it there, after this module was imported.
    return sqlalchemy_asyncio.create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": application_name}},
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
    )


def alembic_config(migrations: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    return config


async def migrate(engine: AsyncEngine, migrations: Path, lock_id: int) -> None:
    """Bring the schema to head, in one transaction, one replica at a time."""

    def upgrade(connection: Connection) -> None:
        config = alembic_config(migrations)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        await connection.run_sync(upgrade)


def run_env(
    context: Any,  # the ``alembic.context`` proxy of an EnvironmentContext
    metadata: MetaData,
    default_url: Callable[[], str],
    *,
    version_table: str = "alembic_version",
    schema: str | None = None,
    include_name: IncludeName | None = None,
) -> None:
    """What a service's ``env.py`` runs; ``schema`` is created first when given."""
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": version_table,
        "version_table_schema": schema,
        "include_schemas": schema is not None,
    }
    url = context.config.get_main_option("sqlalchemy.url") or default_url()

    def on(connection: Connection) -> None:
        if schema is not None:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection, include_name=include_name, compare_type=True, **options
        )
        with context.begin_transaction():
            context.run_migrations()

    async def fresh() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(on)
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
    elif (shared := context.config.attributes.get("connection")) is not None:
        on(shared)
    else:
        asyncio.run(fresh())
