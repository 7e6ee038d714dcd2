"""What the scheduler's revisions ask of the database they migrate.

Schedulers before the migrations created their tables from the models at start-up
(``create_all``), so a database may already hold what a revision would create: each
revision asks first and adopts what is there. These helpers only read the catalog; a
revision applied already runs them again on every fresh database, so they may be added,
never changed in what they answer.

Offline (``alembic upgrade head --sql``, the SQL a DBA reviews and applies by hand) there
is no database to ask: they answer "not there", and the script is a fresh database's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def _catalog() -> sa.Inspector | None:
    """The database's catalog; None offline, where a revision writes SQL and asks nothing."""
    return None if op.get_context().as_sql else sa.inspect(op.get_bind())


def has_tables(*tables: str) -> bool:
    """Whether every one of ``tables`` exists."""
    catalog = _catalog()
    return catalog is not None and set(tables) <= set(catalog.get_table_names())


def has_column(table: str, column: str) -> bool:
    catalog = _catalog()
    return catalog is not None and column in {c["name"] for c in catalog.get_columns(table)}


def has_index(table: str, index: str) -> bool:
    catalog = _catalog()
    return catalog is not None and index in {i["name"] for i in catalog.get_indexes(table)}
