"""An import's ``AccountOpened`` records are written by SQL from the staging table: they
must be what the event models and ``outbox_record`` write, byte for byte (the trace ids
aside, which are drawn per record)."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import orjson
import pytest
from dunning_ledger.adapters.outbox import outbox_record
from dunning_ledger.domain.accounts import AccountChange, status_for
from dunning_ledger.domain.import_format import RawRow
from dunning_ledger.domain.import_rows import validate_row
from dunning_ledger.imports.events import account_event
from dunning_testkit.ledger import import_row, scalar, to_csv

pytestmark = pytest.mark.integration

TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01")


async def test_opened_records_are_those_the_models_write(
    http: httpx.AsyncClient, database: str, topics: str
) -> None:
    rows = [
        import_row(1, full_name='Zoë "Z" O\'Brien \\ Jr', creditor="Café «Crème»"),
        import_row(2, phone="(415) 555-2671", validation_notice_sent_at="2026-01-05T14:00:00Z"),
        import_row(3, email="", phone="", zip="", balance="0"),
    ]
    response = await http.post(
        "/v1/accounts/import", content=to_csv(rows), headers={"content-type": "text/csv"}
    )
    assert response.json()["opened"] == 3, response.text
    stored = orjson.loads(
        await scalar(
            database,
            "SELECT json_agg(json_build_array(topic, encode(key, 'escape'), "
            "convert_from(value, 'UTF8'), headers) ORDER BY key) FROM ledger.outbox",
        )
    )
    for n, (topic, key, value, headers) in enumerate(stored, start=1):
        account, errors = validate_row(RawRow(n, rows[n - 1]))
        assert account is not None, errors
        at = datetime.fromisoformat(dict(headers)["ce_time"])
        change = AccountChange(account, 1, account.balance_minor, status_for(account.balance_minor))
        want = outbox_record(account_event(change, at, opened=True), topics)
        assert (topic, key.encode(), value.encode()) == want[:3]
        traces = [v for name, v in headers if name.endswith("traceparent")]
        assert len(set(traces)) == 1
        assert len(traces) == 2
        assert TRACEPARENT.fullmatch(traces[0])
        wanted_headers = orjson.loads(want[3])
        assert [h for h in headers if not h[0].endswith("traceparent")] == [
            h for h in wanted_headers if not h[0].endswith("traceparent")
        ]
        assert [h[0] for h in headers] == [h[0] for h in wanted_headers]
