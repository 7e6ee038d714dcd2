"""The ledger's API under generated requests: no server error, every 4xx says what and where.

Schemathesis reads the committed OpenAPI document (docs/openapi/ledger.json, kept current
by tests/cross/test_openapi_committed.py) and sends each operation a bounded number of
generated requests, valid and invalid, to a real ledger on PostgreSQL served by uvicorn.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from dunning_ledger.bootstrap import build
from dunning_testkit.ledger import quiet_settings
from dunning_testkit.paths import REPO, auth_headers
from dunning_testkit.servers import BackgroundServer
from dunning_testkit.stack import create_database, drop_database
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytestmark = pytest.mark.integration

SCHEMA = schemathesis.openapi.from_path(REPO / "docs" / "openapi" / "ledger.json")


@pytest.fixture(scope="module")
def ledger_url(stack: None) -> Iterator[str]:
    name = f"test_ledger_fuzz_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(name))
    try:
        settings = quiet_settings(url, f"fuzz{uuid.uuid4().hex[:6]}.")
        with BackgroundServer(lambda: build(settings), factory=True) as server:
            yield server.base_url
    finally:
        asyncio.run(drop_database(name))


STATUSES: list[int] = []


def says_what_and_where(body: dict[str, Any]) -> bool:
    """An error body names the error and explains it; a field error names its place."""
    if not (body.get("error") and body.get("message")):
        return False
    return all(
        e.get("field") or e.get("loc") or e.get("row") is not None for e in body.get("errors") or []
    )


@SCHEMA.parametrize()
@hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_generated_requests_get_no_server_error(case: Any, ledger_url: str) -> None:
    # As an admin, so that every request reaches its route (a keyless one stops at 401).
    response = case.call(base_url=ledger_url, headers=auth_headers(), timeout=30)
    STATUSES.append(response.status_code)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if 400 <= response.status_code < 500:
        assert says_what_and_where(response.json()), (case.method, case.path, response.text[:500])


def test_the_generated_requests_reached_the_routes() -> None:
    """Runs after the fuzzing (file order): most requests got past authentication (some
    carry a generated Authorization header of their own)."""
    assert STATUSES, "no request was sent"
    assert sum(1 for s in STATUSES if s != 401) > len(STATUSES) * 0.75, sorted(set(STATUSES))
