"""Imports streamed into the real PostgreSQL: staged as they arrive, merged all or nothing.

Whether the ledger's memory stays flat as the file grows is bench/bench_import.py's job;
these tests hold the behaviour: a file spanning many pieces and batches, errors capped,
JSON Lines, ids repeated far apart, a re-import that writes nothing, an update sent once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import scalar, to_csv

pytestmark = pytest.mark.integration

CSV = {"content-type": "text/csv"}
JSON_LINES = {"content-type": "application/x-ndjson"}


async def chunked(data: bytes, size: int = 50_000) -> AsyncIterator[bytes]:
    """The body as it would come off a socket, without a Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def counts(database: str) -> tuple[int, int]:
    accounts = await scalar(database, "SELECT count(*) FROM ledger.accounts")
    outbox = await scalar(database, "SELECT count(*) FROM ledger.outbox")
    return int(accounts), int(outbox)


async def test_a_bad_last_row_of_a_big_file_imports_nothing(
    http: httpx.AsyncClient, database: str
) -> None:
    rows = [row(n) for n in range(1, 6001)]
    rows[-1]["due_date"] = "2026-02-30"
    response = await http.post("/v1/accounts/import", content=chunked(to_csv(rows)), headers=CSV)
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["received"], body["error_count"]) == (6000, 1)
    assert [(e["row"], e["line"], e["field"]) for e in body["errors"]] == [(6000, 6001, "due_date")]
    assert await counts(database) == (0, 0)


async def test_errors_are_listed_up_to_a_thousand_and_all_counted(
    http: httpx.AsyncClient, database: str
) -> None:
    rows = [row(n, state="XX") for n in range(1, 1501)]
    response = await http.post("/v1/accounts/import", content=to_csv(rows), headers=CSV)
    assert response.status_code == 422
    body = response.json()
    assert body["error_count"] == 1500
    assert len(body["errors"]) == 1000
    assert body["errors"][-1]["row"] == 1000
    assert body["message"].startswith("1500 error(s) in 1000+ row(s) of 1500")
    assert await counts(database) == (0, 0)


async def test_json_lines_import_once_and_a_changed_row_is_announced_once(
    http: httpx.AsyncClient, database: str
) -> None:
    rows = [row(n) for n in range(1, 3001)]
    body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    first = await http.post("/v1/accounts/import", content=chunked(body), headers=JSON_LINES)
    assert first.status_code == 200, first.text
    assert first.json()["opened"] == 3000
    assert await counts(database) == (3000, 3000)

    again = await http.post("/v1/accounts/import", content=body, headers=JSON_LINES)
    assert (again.json()["unchanged"], again.json()["updated"]) == (3000, 0)
    assert await counts(database) == (3000, 3000)  # nothing written, nothing announced

    rows[2499]["full_name"] = "Renamed Consumer"
    body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    changed = await http.post("/v1/accounts/import", content=body, headers=JSON_LINES)
    assert changed.json() == {
        "received": 3000, "opened": 0, "updated": 1, "unchanged": 2999,
        "recorded_by": "bootstrap-admin",
    }  # fmt: skip
    assert await counts(database) == (3000, 3001)
    sent = await scalar(
        database,
        "SELECT array_agg(h.value->>1 ORDER BY o.id) FROM ledger.outbox o, "
        "jsonb_array_elements(o.headers) h WHERE o.key = $1 AND h.value->>0 = 'ce_type'",
        b"ACC-002500",
    )
    assert sent == ["account.opened.v1", "account.updated.v1"]
    account = (await http.get("/v1/accounts/ACC-002500")).json()
    assert (account["revision"], account["consumer"]["full_name"]) == (2, "Renamed Consumer")
    # The importer's principal is stored: the timeline says who opened the account (an
    # update by a later import leaves it).
    timeline = (await http.get("/v1/accounts/ACC-002500/timeline")).json()
    opened = timeline["entries"][0]
    assert (opened["kind"], opened["by"]) == ("account", "bootstrap-admin")


async def test_an_id_repeated_far_apart_in_one_file_names_both_rows(
    http: httpx.AsyncClient, database: str
) -> None:
    rows = [row(n) for n in range(1, 4501)]
    rows.append(row(1, debt_id="DEBT-OTHER"))
    rows.append(row(4502, debt_id=rows[9]["debt_id"]))
    response = await http.post("/v1/accounts/import", content=chunked(to_csv(rows)), headers=CSV)
    assert response.status_code == 422, response.text
    assert [(e["row"], e["line"], e["field"], e["message"]) for e in response.json()["errors"]] == [
        (4501, 4502, "account_id", "duplicate of row 1"),
        (4502, 4503, "debt_id", "debt_id is already the debt of row 10"),
    ]
    assert await counts(database) == (0, 0)


async def test_bytes_that_are_not_utf8_are_refused_with_where(
    http: httpx.AsyncClient, database: str
) -> None:
    data = to_csv([row(n) for n in range(1, 3)]) + b"ACC-9,Jos\xe9,NY\n"
    response = await http.post("/v1/accounts/import", content=data, headers=CSV)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert "not UTF-8" in error["message"]
    assert error["row"] == 3
    assert await counts(database) == (0, 0)
