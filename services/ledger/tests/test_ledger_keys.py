"""API keys at the ledger, against the real PostgreSQL and Kafka: made by an admin, shown
once, stored hashed, refused by role (403) and once revoked (401); every write names the
key's principal; every change is published on ``auth.keys.v1``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from dunning_core.contracts.access import KeyRecord
from dunning_core.contracts.topics import AUTH_KEYS
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import scalar
from dunning_testkit.paths import auth_headers
from dunning_testkit.stack import KAFKA

pytestmark = pytest.mark.integration


async def new_key(http: httpx.AsyncClient, name: str, role: str) -> dict[str, Any]:
    response = await http.post("/v1/keys", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_key_is_shown_once_and_stored_only_hashed(
    http: httpx.AsyncClient, database: str
) -> None:
    created = await new_key(http, "ops-jane", "operator")
    key = created["key"]
    assert key.startswith(f"dun_{created['key_id']}_")
    assert (created["name"], created["role"], created["created_by"]) == (
        "ops-jane", "operator", "bootstrap-admin",
    )  # fmt: skip
    stored = await scalar(
        database, "SELECT key_hash FROM ledger.api_keys WHERE key_id = $1", created["key_id"]
    )
    assert stored != key
    assert len(stored) == 64
    listed = (await http.get("/v1/keys")).json()["keys"]
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert "key" not in listed[0]
    assert key not in (await http.get("/v1/keys")).text


async def test_no_key_is_401_and_a_bad_role_is_403(http: httpx.AsyncClient) -> None:
    bare = {"Authorization": ""}
    refused = await http.get("/v1/summary", headers=bare)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthorized"
    assert (await http.get("/v1/accounts/NOPE", headers=bare)).status_code == 401
    assert (await http.get("/health", headers=bare)).status_code in (200, 503)

    agent = auth_headers((await new_key(http, "agent-ann", "agent"))["key"])
    assert (await http.get("/v1/summary", headers=agent)).status_code == 200
    payment = {"payment_id": "PAY-1", "amount": "1.00"}
    forbidden = await http.post("/v1/accounts/ACC-000001/payments", json=payment, headers=agent)
    assert forbidden.status_code == 403
    body = forbidden.json()
    assert body["roles_allowed"] == ["admin", "operator", "payment_system", "portal"]
    assert "agent" in body["message"]
    assert (await http.post("/v1/keys", json={}, headers=agent)).status_code == 403
    reader = auth_headers((await new_key(http, "auditor", "read_only"))["key"])
    assert (await http.post("/v1/accounts/import", headers=reader, json={})).status_code == 403


async def test_every_write_names_the_principal(http: httpx.AsyncClient) -> None:
    ops = auth_headers((await new_key(http, "ops-jane", "operator"))["key"])
    agent = auth_headers((await new_key(http, "agent-ann", "agent"))["key"])
    cashier = auth_headers((await new_key(http, "card-processor", "payment_system"))["key"])

    imported = await http.post("/v1/accounts/import", json={"accounts": [row(3)]}, headers=ops)
    assert imported.json()["recorded_by"] == "ops-jane"
    paid = await http.post(
        "/v1/accounts/ACC-000003/payments",
        json={"payment_id": "PAY-3", "amount": "10.00"},
        headers=cashier,
    )
    assert paid.json()["recorded_by"] == "card-processor"
    due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    plan = await http.post(
        "/v1/accounts/ACC-000003/plans",
        json={"plan_id": "PLAN-3", "instalment": "10.00", "instalments": 3, "first_due": due},
        headers=ops,
    )
    assert plan.json()["recorded_by"] == "ops-jane"
    dispute = await http.post(
        "/v1/accounts/ACC-000003/signals",
        json={"signal_id": "SIG-3", "kind": "disputed", "text": "not my debt"},
        headers=agent,
    )
    assert dispute.status_code == 201, dispute.text
    assert dispute.json()["recorded_by"] == "agent-ann"
    replay = await http.post(
        "/v1/accounts/ACC-000003/signals",
        json={"signal_id": "SIG-3", "kind": "disputed", "text": "not my debt"},
        headers=ops,
    )
    assert replay.json()["recorded_by"] == "agent-ann"  # the first entry's author

    account = (await http.get("/v1/accounts/ACC-000003")).json()
    assert [p["recorded_by"] for p in account["payments"]] == ["card-processor"]
    assert [p["recorded_by"] for p in account["plans"]] == ["ops-jane"]
    assert [d["recorded_by"] for d in account["disputes"]] == ["agent-ann"]
    log = (await http.get("/v1/accounts/ACC-000003/communications?detail=events")).json()
    assert [e["recorded_by"] for e in log["events"]] == ["agent-ann"]


async def test_a_revoked_key_is_refused_at_once_and_published(
    http: httpx.AsyncClient, topics: str
) -> None:
    created = await new_key(http, "ops-jane", "operator")
    mine = auth_headers(created["key"])
    assert (await http.get("/v1/summary", headers=mine)).status_code == 200

    revoked = await http.delete(f"/v1/keys/{created['key_id']}")
    assert revoked.status_code == 200
    assert (revoked.json()["revoked"], revoked.json()["revoked_by"]) == (True, "bootstrap-admin")
    refused = await http.get("/v1/summary", headers=mine)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["message"]
    assert (await http.delete(f"/v1/keys/{created['key_id']}")).status_code == 200  # idempotent
    assert (await http.delete("/v1/keys/000000000000")).status_code == 404
    assert (await http.delete("/v1/keys/not-an-id")).status_code == 404

    records = await read_key_records(topics, at_least=2)
    assert [(r.key_id, r.revoked) for r in records] == [
        (created["key_id"], False), (created["key_id"], True),
    ]  # fmt: skip
    assert all(created["key"] not in r.model_dump_json() for r in records)


async def read_key_records(topics: str, at_least: int) -> list[KeyRecord]:
    consumer = AIOKafkaConsumer(
        topics + AUTH_KEYS, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[KeyRecord] = []
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records += [KeyRecord.model_validate_json(r.value) for r in batch]
            if len(records) >= at_least:
                break
    finally:
        await consumer.stop()
    return records
