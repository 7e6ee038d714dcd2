"""Alembic environment (async, asyncpg): the ledger's tables live in schema ``ledger``.

At start-up the service hands in its own connection (``config.attributes["connection"]``);
from the command line (``uv run alembic -c services/ledger/alembic.ini ...``) this builds
an async engine from ``sqlalchemy.url`` or ``DUNNING_DATABASE_URL``.
"""

from __future__ import annotations

from alembic import context
from dunning_core.runtime.postgres import run_env

from dunning_ledger.config import LedgerSettings
from dunning_ledger.models import SCHEMA, Base
from dunning_ledger.tasks import models as _task_tables  # noqa: F401  (into Base.metadata)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return name == SCHEMA if type_ == "schema" else True


run_env(
    context,
    Base.metadata,
    lambda: LedgerSettings().database_url,
    schema=SCHEMA,
    include_name=include_name,
)
