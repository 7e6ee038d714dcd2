"""Alembic environment (async, asyncpg): the scheduler's tables, prefixed ``scheduler_``.

At start-up the service hands in its own connection (``config.attributes["connection"]``);
from the command line (``uv run alembic -c services/scheduler/alembic.ini ...``) this
builds an async engine from ``sqlalchemy.url`` or ``DUNNING_DATABASE_URL``. Other
services' tables in the same database are none of the scheduler's business: only
``scheduler_*`` tables are compared.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from dunning_scheduler.adapters.database import VERSION_TABLE
from dunning_scheduler.adapters.models import metadata
from dunning_scheduler.config import SchedulerSettings

config = context.config
target_metadata = metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return bool(name and name.startswith("scheduler_")) if type_ == "table" else True


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or SchedulerSettings().database_url


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (shared := config.attributes.get("connection")) is not None:
    do_run_migrations(shared)
else:
    asyncio.run(run_async_migrations())
