"""Search by phone, email and state through a narrow index of the contact points alone.

The GIN index of revision 0004 held every leaf of every consumer (``jsonb_path_ops``: about
25 entries an account: names, zones, consent fields, dates), all written by each import;
a search asks for three of them. ``ledger.contact_points(consumer)`` gives those three
kinds (``phone:<number>``, ``email:<address>``, ``state:<code>``), four or five entries an
account, and the search asks ``ledger.contact_points(consumer) @> ARRAY[...]``. A
million-account import spent 20 of its 87 s in the old index (bench_import).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from alembic import op
from dunning_ledger.migrations import ddl

revision: str = "0013"
down_revision: str | None = "0012"

# IMMUTABLE: a function of its argument alone (an index expression must be). A consumer
# is validated before it is stored: ``phones`` and ``emails`` are arrays when present.
CONTACT_POINTS = """
CREATE FUNCTION ledger.contact_points(consumer jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT 'phone:' || (p ->> 'number')
        FROM jsonb_array_elements(coalesce(consumer -> 'phones', '[]')) AS p
        UNION ALL
        SELECT 'email:' || (e ->> 'address')
        FROM jsonb_array_elements(coalesce(consumer -> 'emails', '[]')) AS e
        UNION ALL
        SELECT 'state:' || (consumer ->> 'state') WHERE consumer ? 'state'
    )
$$
"""


def upgrade() -> None:
    op.execute(CONTACT_POINTS)
    op.execute(
        "CREATE INDEX ix_accounts_contact_points ON ledger.accounts "
        "USING gin (ledger.contact_points(consumer))"
    )
    op.drop_index("ix_accounts_consumer", table_name="accounts", schema=ddl.SCHEMA)


def downgrade() -> None:
    op.execute(
        "CREATE INDEX ix_accounts_consumer ON ledger.accounts USING gin (consumer jsonb_path_ops)"
    )
    op.drop_index("ix_accounts_contact_points", table_name="accounts", schema=ddl.SCHEMA)
    op.execute("DROP FUNCTION ledger.contact_points(jsonb)")
