"""What the scheduler's revisions ask of the database they migrate.

Schedulers before the migrations created their tables from the models at start-up
(``create_all``), so a database may already hold what a revision would create: each
revision asks first and adopts what is there. These helpers only read the catalog; a
revision applied already runs them again on every fresh database, so they may be added,
never changed in what they answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def has_tables(*tables: str) -> bool:
    """Whether every one of ``tables`` exists."""
    return set(tables) <= set(sa.inspect(op.get_bind()).get_table_names())


def has_column(table: str, column: str) -> bool:
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def has_index(table: str, index: str) -> bool:
    return index in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}
