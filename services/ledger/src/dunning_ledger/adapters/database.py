"""PostgreSQL: the async engine, sessions, transactions, and the migrations run at start-up.

Several ledger replicas may start at once: the upgrade runs under a transaction-scoped
advisory lock, so one migrates and the others find the schema at head.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Generic, TypeVar

import asyncpg
from alembic import command
from alembic.config import Config
from dunning_core.runtime import postgres
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from dunning_ledger.errors import Unavailable

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x1ED6E2  # advisory lock id: "ledger migrations"


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return postgres.make_engine(url, pool_size, "dunning-ledger")


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


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


class SqlTransactions(Generic[T]):
    """Opens a session per transaction and hands the caller ``build(session)``.

    Nothing is committed here: the caller commits, and leaving without committing rolls
    back. A lost database, whenever it shows, is ``Unavailable``.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], build: Callable[[AsyncSession], T]
    ) -> None:
        self.sessions = sessions
        self.build = build

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[T]:
        try:
            async with self.sessions() as session:
                yield self.build(session)
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
            raise Unavailable(f"the database is unreachable: {exc}") from exc
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            raise Unavailable(f"the database is unreachable: {exc.orig or exc}") from exc
