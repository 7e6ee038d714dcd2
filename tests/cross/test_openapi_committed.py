"""The committed OpenAPI documents are what the services serve (`make openapi` rewrites them)."""

from __future__ import annotations

import pytest
from dunning_testkit.openapi import APPS, render
from dunning_testkit.paths import REPO


@pytest.mark.parametrize("service", sorted(APPS))
def test_the_committed_openapi_document_is_current(service: str) -> None:
    committed = REPO / "docs" / "openapi" / f"{service}.json"
    assert committed.exists(), f"{committed} is missing: run `make openapi`"
    assert committed.read_text(encoding="utf-8") == render(service), (
        f"{committed} is stale: run `make openapi` and commit it"
    )
