"""``dunning templates preview`` against the scheduler's real preview route (the router the
scheduler mounts, in-process): what the CLI prints is what the scheduler renders."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_cli.main import app as cli
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.api import preview_router
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.scheduler import IDENTITY
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    app = FastAPI()
    app.include_router(preview_router(Renderer(IDENTITY), default_policy()))
    client = TestClient(app)

    def get(url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        response: httpx.Response = client.get(httpx.URL(url).path, **kwargs)
        return response

    monkeypatch.setattr(httpx, "get", get)
    return client


@pytest.mark.parametrize("locale", ["en_US", "es_US", "zh_CN"])
def test_cli_prints_what_the_scheduler_renders(scheduler: TestClient, locale: str) -> None:
    params = {"locale": locale, "state": "NY", "stage": "formal_notice"}
    rendered = scheduler.get("/v1/templates/preview", params=params).json()["previews"]

    result = CliRunner().invoke(
        cli, ["templates", "preview", "--locale", locale, "--stage", "formal_notice"]
    )

    assert result.exit_code == 0, result.output
    assert {p["channel"] for p in rendered} == {"sms", "email"}
    for preview in rendered:
        assert f"/ {preview['channel']} ({locale}) ==" in result.stdout
        assert preview["body"] in result.stdout
        if preview["subject"]:
            assert f"Subject: {preview['subject']}" in result.stdout
