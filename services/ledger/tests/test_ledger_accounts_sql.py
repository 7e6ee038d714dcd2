"""Account search and timeline on PostgreSQL: each filter through the indexes, paging, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dunning_core.contracts.events import AccountUpdated
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import read_topic, scalar, to_csv

pytestmark = pytest.mark.integration


async def found(http: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await http.get("/v1/accounts", params=params)
    assert response.status_code == 200, response.text
    return [a["account_id"] for a in response.json()["accounts"]]


async def test_every_filter_finds_its_accounts(http: httpx.AsyncClient, database: str) -> None:
    ten_days_ago = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    rows = [
        row(1, full_name="Ana García"),
        row(2, state="TX", email="Ben.Smith@Example.com", due_date=ten_days_ago),
        row(3, full_name="=HYPERLINK(1)", balance="0.00"),
        row(4, full_name="50%_off"),
    ]
    response = await http.post(
        "/v1/accounts/import", files={"file": ("a.csv", to_csv(rows), "text/csv")}
    )
    assert response.status_code == 200, response.text
    ids = [f"ACC-{n:06d}" for n in range(1, 5)]
    assert await found(http) == ids
    assert await found(http, account_id=ids[1]) == [ids[1]]
    assert await found(http, name="GARCÍA") == [ids[0]]
    assert await found(http, name="=hyp") == [ids[2]]
    assert await found(http, name="%_") == [ids[3]]  # LIKE wildcards are plain text
    assert await found(http, phone="(212) 555-0002") == [ids[1]]
    assert await found(http, email="Ben.Smith@EXAMPLE.com") == [ids[1]]
    assert await found(http, state="tx") == [ids[1]]
    assert await found(http, status="paid") == [ids[2]]
    assert await found(http, balance_min="100.25", balance_max="102.25") == ids[:2]
    assert await found(http, days_past_due_max=30) == [ids[1]]
    assert await found(http, state="NY", days_past_due_min=30, balance_min="1") == [
        ids[0],
        ids[3],
    ]
    await scalar(
        database,
        "INSERT INTO ledger.communication_log (step_id, account_id, channel, stage, "
        "created_at, updated_at) VALUES ('s1', $1, 'sms', 'first_notice', now(), now())",
        ids[3],
    )
    assert await found(http, stage="first_notice") == [ids[3]]
    hit = (await http.get("/v1/accounts", params={"account_id": ids[0]})).json()["accounts"][0]
    assert hit["phones"] == ["+12125550001"]
    assert hit["balance"] == {"amount_minor": 10125, "currency": "USD", "display": "101.25"}


async def test_pages_are_stable_and_a_bad_cursor_is_a_400(http: httpx.AsyncClient) -> None:
    rows = [row(n) for n in range(1, 8)]
    await http.post("/v1/accounts/import", files={"file": ("a.csv", to_csv(rows), "text/csv")})
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = (await http.get("/v1/accounts", params=params)).json()
        seen += [a["account_id"] for a in page["accounts"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [f"ACC-{n:06d}" for n in range(1, 8)]
    bad = await http.get("/v1/accounts", params={"cursor": "garbage"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_cursor"
    assert bad.json()["errors"][0]["field"] == "query.cursor"
    phone = await http.get("/v1/accounts", params={"phone": "not-a-phone"})
    assert phone.status_code == 422
    assert phone.json()["errors"][0]["field"] == "query.phone"
    assert (await http.get("/v1/accounts", headers={"Authorization": ""})).status_code == 401


async def test_the_timeline_reads_every_table_in_order(http: httpx.AsyncClient) -> None:
    await http.post("/v1/accounts/import", json={"accounts": [row(9)]})
    account = "ACC-000009"
    signal = {"signal_id": "d-9", "kind": "disputed", "text": "not mine"}
    assert (await http.post(f"/v1/accounts/{account}/signals", json=signal)).status_code == 201
    payment = {"payment_id": "p-9", "amount": "5.00", "method": "card"}
    assert (await http.post(f"/v1/accounts/{account}/payments", json=payment)).status_code == 201
    body = (await http.get(f"/v1/accounts/{account}/timeline")).json()
    assert [e["kind"] for e in body["entries"]] == ["account", "signal", "payment"]
    assert all(e["by"] for e in body["entries"][1:])
    assert body["zone"] == "America/New_York"
    page = await http.get(f"/v1/accounts/{account}/timeline", params={"format": "html"})
    assert "not mine" in page.text


async def test_a_change_reaches_kafka_and_a_reimport_keeps_it_unchanged(
    http: httpx.AsyncClient, topics: str, database: str
) -> None:
    csv = to_csv([row(11)])
    await http.post("/v1/accounts/import", files={"file": ("a.csv", csv, "text/csv")})
    account = "ACC-000011"
    patch = {"phones": [{"number": "(415) 555-2671", "kind": "home"}], "locale": "es_US"}
    changed = await http.patch(f"/v1/accounts/{account}", json=patch)
    assert changed.status_code == 200, changed.text
    assert changed.json()["changed"] == ["phones", "locale"]
    events = await read_topic(topics + "accounts.v1", at_least=2)
    updated = events[-1].data
    assert isinstance(updated, AccountUpdated)
    assert updated.revision == 2
    assert updated.consumer.phones[0].number == "+14155552671"
    assert updated.recorded_by
    assert await scalar(database, "SELECT consumer->>'locale' FROM ledger.accounts") == "es_US"
    assert await scalar(database, "SELECT changed FROM ledger.account_changes") == [
        "phones",
        "locale",
    ]
    again = await http.post("/v1/accounts/import", files={"file": ("a.csv", csv, "text/csv")})
    assert again.json()["unchanged"] == 1
    note = await http.post(f"/v1/accounts/{account}/notes", json={"text": "asked for Spanish"})
    assert note.status_code == 201
    timeline = (await http.get(f"/v1/accounts/{account}/timeline")).json()
    assert [e["kind"] for e in timeline["entries"]] == ["account", "change", "note"]


@pytest.mark.parametrize(
    ("param", "status"),
    [("name", 422), ("account_id", 422), ("stage", 422), ("email", 422), ("phone", 422),
     ("cursor", 400)],
)  # fmt: skip
async def test_a_nul_byte_in_a_filter_is_refused_naming_it(
    http: httpx.AsyncClient, param: str, status: int
) -> None:
    response = await http.get("/v1/accounts", params={param: "ab\x00cd"})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["field"] == f"query.{param}"
