"""The HTTP surface without the stack: request checks, error bodies, OpenAPI.

The ledger here points at a database port where nothing listens, and its runtime is not
started: whatever needs PostgreSQL answers 503, everything decided before it answers alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dunning_ledger.bootstrap import build
from dunning_ledger.config import LedgerSettings
from dunning_testkit.ledger import UNREACHABLE, ledger_client

HEADER = "account_id,full_name,state,creditor,debt_id,balance,due_date\n"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with ledger_client(build(LedgerSettings(database_url=UNREACHABLE))) as client:
        yield client


async def test_a_bad_import_is_refused_with_row_and_field(http: httpx.AsyncClient) -> None:
    body = HEADER + "A1,Ana,NY,Acme,D1,10.00,2026-01-01\nA2,Ben,XX,Acme,D2,-1,2026-13-01\n"
    response = await http.post(
        "/v1/accounts/import", content=body, headers={"content-type": "text/csv; charset=utf-8"}
    )
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "import_rejected"
    assert payload["message"] == "3 error(s) in 1 row(s) of 2; nothing was imported"
    assert [(e["row"], e["line"], e["field"]) for e in payload["errors"]] == [
        (2, 3, "state"),
        (2, 3, "balance"),
        (2, 3, "due_date"),
    ]
    assert "header is row 0" in payload["row_numbering"]


async def test_a_multipart_import_needs_a_file_field(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/accounts/import", files={"upload": ("a.csv", b"x")})
    assert response.status_code == 422
    assert "field named 'file'" in response.json()["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"<accounts/>", "application/xml", 415),
        (b"{not json", "application/json", 422),
        (b'{"rows": []}', "application/json", 422),
        (b"[]", "application/json", 422),
    ],
)
async def test_import_bodies_that_cannot_be_read(
    http: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await http.post(
        "/v1/accounts/import", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    assert set(response.json()) >= {"error", "message"}


async def test_without_the_database_the_api_answers_503(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/accounts/A1")
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"


async def test_request_bodies_are_checked_before_anything_else(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/accounts/A1/payments", json={"payment_id": "P1", "amount": "1,000"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["amount"]
    unknown = await http.post(
        "/v1/accounts/A1/signals", json={"signal_id": "s", "kind": "lawsuit_threatened"}
    )
    assert unknown.status_code == 422


async def test_openapi_documents_the_import_formats(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    operation = schema["paths"]["/v1/accounts/import"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "text/csv",
        "application/x-ndjson",
        "multipart/form-data",
        "application/json",
    }
    assert "| balance | yes |" in operation["description"]
    assert "header is line 1" in operation["description"]
