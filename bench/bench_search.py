"""Account search on the real PostgreSQL: p50/p95 per kind of query, one page of 50 each.

    uv run python -m bench.bench_search   (BENCH_SEARCH_ACCOUNTS=100000,1000000)

The accounts are written by SQL (``generate_series``), not through the import: this measures
the search and its indexes, not the import. Names come from 40 first and 60 last names, so a
name search matches about 1 account in 40 to 60; a third of the accounts have a logged step.
Each size gets its own database (removed afterwards). Queries go through the use case
(``AccountService.search``) over the ledger's SQL transactions, without HTTP.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from dunning_core.runtime.clock import clock_from
from dunning_ledger.accounts.service import AccountService
from dunning_ledger.adapters.database import SqlTransactions, make_engine, make_sessions, migrate
from dunning_ledger.bootstrap import SqlTransaction
from dunning_ledger.domain.search import SearchFilters
from dunning_testkit.stack import create_database, drop_database
from sqlalchemy import text

from bench.common import percentiles_ms, report

SIZES = [int(n) for n in os.environ.get("BENCH_SEARCH_ACCOUNTS", "100000").split(",")]
RUNS = int(os.environ.get("BENCH_SEARCH_RUNS", "40"))
FIRST = ["Ana", "Ben", "Carla", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivan", "Jo"] * 4
LAST = [f"{s}{t}" for s in ("Smith", "Garcia", "Nguyen", "Okafor", "Kowal", "Ruiz")
        for t in ("", "son", "ez", "ova", "ski", "berg", "man", "well", "ford", "ton")]  # fmt: skip
STATES = ["NY", "TX", "CA", "FL", "IL", "PA", "OH", "GA", "NC", "MI"]

_FILL = """
INSERT INTO ledger.accounts (account_id, revision, consumer, debt, debt_id, currency,
  imported_balance_minor, paid_minor, balance_minor, status, fingerprint, created_at, updated_at)
SELECT 'ACC-' || lpad(n::text, 7, '0'), 1,
  jsonb_build_object(
    'full_name', (:first)[1 + n % 40] || ' ' || (:last)[1 + (n / 40) % 60],
    'state', (:states)[1 + n % 10],
    'phones', jsonb_build_array(jsonb_build_object('number', '+1212' || lpad(n::text, 7, '0'))),
    'emails', jsonb_build_array(jsonb_build_object('address', 'c' || n || '@example.com'))),
  jsonb_build_object('due_date', (date '2026-01-01' - (n % 720))::text),
  'DEBT-' || n, 'USD', (n::bigint * 7919) % 500000, 0, (n::bigint * 7919) % 500000,
  CASE WHEN n % 13 = 0 THEN 'paid' ELSE 'open' END, md5(n::text), now(), now()
FROM generate_series(1, :count) AS n
"""
_STEPS = """
INSERT INTO ledger.communication_log (step_id, account_id, channel, stage, created_at, updated_at)
SELECT 'stp-' || n, 'ACC-' || lpad(n::text, 7, '0'), 'sms',
  (ARRAY['first_notice', 'reminder', 'final_notice'])[1 + (n / 3) % 3], now(), now()
FROM generate_series(1, :count, 3) AS n
"""


def kinds(count: int, rnd: random.Random) -> dict[str, Callable[[], SearchFilters]]:
    def n() -> int:
        return rnd.randint(1, count)

    return {
        "account_id": lambda: SearchFilters(account_id=f"ACC-{n():07d}"),
        "name_contains": lambda: SearchFilters(name=rnd.choice(LAST)[1:5]),
        "name_full": lambda: SearchFilters(name=f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"),
        "name_no_match": lambda: SearchFilters(name=f"zq{rnd.randint(0, 999)}x"),
        "phone": lambda: SearchFilters(phone=f"+1212{n():07d}"),
        "email": lambda: SearchFilters(email=f"c{n()}@example.com"),
        "state": lambda: SearchFilters(state=rnd.choice(STATES)),
        "status_paid": lambda: SearchFilters(status="paid"),
        "stage": lambda: SearchFilters(stage=rnd.choice(["reminder", "final_notice"])),
        "stage_no_match": lambda: SearchFilters(stage="settlement_offer"),
        "balance_range": lambda: SearchFilters(balance_min="1000", balance_max="1010"),
        "days_past_due_range": lambda: SearchFilters(days_past_due_min=400, days_past_due_max=402),
        "state_dpd_balance": lambda: SearchFilters(
            state=rnd.choice(STATES), days_past_due_min=600, balance_min="4000"
        ),
        "no_filter_page": lambda: SearchFilters(),
    }


async def run(count: int) -> dict[str, Any]:
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    url = await create_database(name)
    engine = make_engine(url, 5)
    service = AccountService(
        SqlTransactions(make_sessions(engine), lambda s: SqlTransaction(s, "bench.")),
        clock_from(None, 1.0, None),
    )
    figures: dict[str, Any] = {}
    try:
        await migrate(engine)
        started = time.perf_counter()
        array = "ARRAY[" + ",".join(f"'{v}'" for v in FIRST) + "]"
        fill = _FILL.replace(":first", array).replace(
            ":last", "ARRAY[" + ",".join(f"'{v}'" for v in LAST) + "]"
        )
        fill = fill.replace(":states", "ARRAY[" + ",".join(f"'{v}'" for v in STATES) + "]")
        async with engine.begin() as connection:
            await connection.execute(text(fill), {"count": count})
            await connection.execute(text(_STEPS), {"count": count})
        # As autovacuum leaves them: statistics, and the GIN indexes' pending lists merged.
        async with engine.connect() as connection:
            vacuum = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await vacuum.execute(text("VACUUM ANALYZE ledger.accounts"))
            await vacuum.execute(text("VACUUM ANALYZE ledger.communication_log"))
        figures[f"fill_s_{count}"] = round(time.perf_counter() - started, 1)
        search = service.search
        rnd = random.Random(7)
        for kind, make in kinds(count, rnd).items():
            await search(make())  # warm the plan and the cache
            samples = []
            for _ in range(RUNS):
                filters = make()
                t = time.perf_counter()
                page = await search(filters)
                samples.append(time.perf_counter() - t)
            figures[f"{kind}_p50_ms_{count}"] = percentiles_ms(samples)["p50_ms"]
            figures[f"{kind}_p95_ms_{count}"] = percentiles_ms(samples)["p95_ms"]
            if kind == "no_filter_page" and page.next_cursor:
                cursor = page.next_cursor
                samples = []
                for _ in range(RUNS):
                    t = time.perf_counter()
                    page = await search(SearchFilters(cursor=cursor))
                    samples.append(time.perf_counter() - t)
                    cursor = page.next_cursor or cursor
                figures[f"next_page_p50_ms_{count}"] = percentiles_ms(samples)["p50_ms"]
                figures[f"next_page_p95_ms_{count}"] = percentiles_ms(samples)["p95_ms"]
    finally:
        await engine.dispose()
        await drop_database(name)
    return figures


async def main() -> None:
    figures: dict[str, Any] = {"page_size": 50, "runs_per_kind": RUNS}
    for count in SIZES:
        figures.update(await run(count))
    report("search", figures)


if __name__ == "__main__":
    asyncio.run(main())
