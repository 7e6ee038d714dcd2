"""After the end-to-end runs, no service's log carries a consumer's phone, e-mail or name.

Runs last in tests/e2e (file order): by then the pipeline has imported the portfolios of the
tests before it, planned, vetted, sent, received callbacks, STOPs and replies. Every account
the ledger holds is read from its database; each service's log, from this run's start marker
on, must contain none of their full phone numbers, e-mail addresses or names, and no E.164
number or e-mail address at all (a masked form such as ``+1415***0100`` is what logs carry).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import asyncpg
import pytest
from dunning_testkit.paths import REPO, database_url

from .conftest import Pipeline

pytestmark = pytest.mark.e2e

SERVICES = ("ledger", "scheduler", "gate", "sms", "email", "sms-ingress", "email-ingress")
E164 = re.compile(r"\+[1-9]\d{9,14}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
START = re.compile(r"^=== \S+ start ", re.M)


def this_run(log: Path) -> str:
    """The log from the last start marker on: services.sh appends across runs."""
    text = log.read_text(errors="replace")
    starts = [m.start() for m in START.finditer(text)]
    return text[starts[-1] :] if starts else text


async def portfolio_pii(database: str) -> set[str]:
    dsn = database_url(database).replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "select consumer ->> 'full_name' as name, "
            "coalesce(jsonb_path_query_array(consumer, '$.phones[*].number'), '[]') as phones, "
            "coalesce(jsonb_path_query_array(consumer, '$.emails[*].address'), '[]') as emails "
            "from ledger.accounts"
        )
    finally:
        await connection.close()
    found: set[str] = set()
    for row in rows:
        found.add(row["name"])
        found.update(_strings(row["phones"]) | _strings(row["emails"]))
    return {value for value in found if value}


def _strings(raw: str) -> set[str]:
    return {str(v) for v in json.loads(raw)}


async def test_no_log_carries_a_phone_an_email_or_a_name(pipeline: Pipeline) -> None:
    pii = await portfolio_pii(pipeline.prefix.rstrip("."))
    assert len(pii) > 30, "the e2e runs before this one imported accounts"
    logs = Path(os.environ.get("DUNNING_STATE_DIR", REPO / ".state")) / "logs"
    leaks: list[str] = []
    for service in SERVICES:
        path = logs / f"{service}.log"
        assert path.exists(), f"{service} wrote no log at {path}"
        text = this_run(path)
        assert START.match(text), f"{service}'s log has no start marker of services.sh"
        leaks += [f"{service}: {m.group()!r}" for m in E164.finditer(text)]
        leaks += [f"{service}: {m.group()!r}" for m in EMAIL.finditer(text)]
        leaks += [f"{service}: consumer value {v!r}" for v in pii if v in text]
    assert not leaks, f"{len(leaks)} personal values in the logs, first: {leaks[:10]}"
