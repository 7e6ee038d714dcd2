"""Alembic environment of the scheduler's tables (``scheduler_*``, version table of its own).

``uv run alembic -c services/scheduler/alembic.ini ...`` from the repository root; the
service migrates at start-up. Other services' tables in the same database are none of the
scheduler's business: only ``scheduler_*`` tables are compared.
"""

from __future__ import annotations

from alembic import context
from dunning_core.runtime.postgres import run_env

from dunning_scheduler.adapters.database import VERSION_TABLE
from dunning_scheduler.adapters.models import metadata
from dunning_scheduler.config import SchedulerSettings


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return bool(name and name.startswith("scheduler_")) if type_ == "table" else True


run_env(
    context,
    metadata,
    lambda: SchedulerSettings().database_url,
    version_table=VERSION_TABLE,
    include_name=include_name,
)
