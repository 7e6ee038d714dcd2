"""The SQL a DBA reviews and applies by hand: ``alembic upgrade head --sql``, no database."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def test_the_offline_script_is_a_fresh_database_s() -> None:
    # The revisions ask the catalog what an earlier scheduler created; offline there is no
    # catalog to ask (the inspector refused a mock connection and the command failed).
    out = io.StringIO()
    config = Config(str(ALEMBIC_INI), output_buffer=out)
    config.set_main_option("sqlalchemy.url", "postgresql+asyncpg://dba@db.invalid/dunning")
    command.upgrade(config, "head", sql=True)
    script = out.getvalue()
    for made in (
        "CREATE TABLE scheduler_cases (",
        "CREATE TABLE scheduler_steps (",
        "ALTER TABLE scheduler_cases ADD COLUMN money JSONB",
        "CREATE INDEX ix_scheduler_steps_held ON scheduler_steps",
    ):
        assert made in script
    assert script.rstrip().endswith("COMMIT;")
