"""Fixtures shared by the dashboard's tests: the app over fakes of its ports, served
in-process. A test module changes the fakes by defining ``fakes``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dunning_testkit.ops import OpsFakes


@pytest.fixture
def fakes() -> OpsFakes:
    return OpsFakes()


@pytest.fixture
async def http(fakes: OpsFakes) -> AsyncIterator[httpx.AsyncClient]:
    app = fakes.app()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://ops") as client,
    ):
        yield client
