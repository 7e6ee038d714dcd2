"""Search by phone, email and state through a narrow index of the contact points alone.

The GIN index of revision 0004 held every leaf of every consumer (``jsonb_path_ops``: about
25 entries an account: names, zones, consent fields, dates), all written by each import;
a search asks for three of them. ``ledger.contact_points(consumer)`` is the consumer's
numbers, addresses and state as one JSON array (four or five entries an account), and the
search asks ``ledger.contact_points(consumer) @> '["+12125550100"]'``. The three kinds
cannot be mistaken for each other: a stored number is E.164 (``+`` and digits), an address
holds an ``@``, a state is two capital letters (the import validates all three). A
million-account import spent 20 of its 87 s in the old index (bench_import).

The function is one expression of immutable built-ins, so PostgreSQL inlines it, in the
index as in the query: no SQL function is executed per row (a function with a subquery
cost the import as much as the index it saved).
"""

from __future__ import annotations

from alembic import op
from dunning_ledger.migrations import ddl

revision: str = "0013"
down_revision: str | None = "0012"

# IMMUTABLE and a single expression without STRICT: inlined wherever it is used.
CONTACT_POINTS = """
CREATE FUNCTION ledger.contact_points(consumer jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_path_query_array(consumer, '$.phones[*].number')
        || jsonb_path_query_array(consumer, '$.emails[*].address')
        || jsonb_path_query_array(consumer, '$.state')
$$
"""


def upgrade() -> None:
    op.execute(CONTACT_POINTS)
    op.execute(
        "CREATE INDEX ix_accounts_contact_points ON ledger.accounts "
        "USING gin (ledger.contact_points(consumer) jsonb_path_ops)"
    )
    op.drop_index("ix_accounts_consumer", table_name="accounts", schema=ddl.SCHEMA)


def downgrade() -> None:
    op.execute(
        "CREATE INDEX ix_accounts_consumer ON ledger.accounts USING gin (consumer jsonb_path_ops)"
    )
    op.drop_index("ix_accounts_contact_points", table_name="accounts", schema=ddl.SCHEMA)
    op.execute("DROP FUNCTION ledger.contact_points(jsonb)")
