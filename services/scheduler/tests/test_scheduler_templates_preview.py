"""``GET /v1/templates/preview``: the scheduler's templates rendered for a sample account,
per stage and channel, in the locale asked for (what ``dunning templates preview`` prints).

The app is the service's own (``bootstrap.build``), not started: the route needs neither
the database nor Kafka (built in a running loop, as the Kafka producer wants).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dunning_scheduler.adapters.rendering import Renderer
from dunning_scheduler.bootstrap import Configured, build
from dunning_scheduler.config import SchedulerSettings
from dunning_scheduler.policy.loader import default_policy
from dunning_testkit.paths import auth_headers
from dunning_testkit.scheduler import IDENTITY

POLICY = default_policy()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = SchedulerSettings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/unused",
        kafka_bootstrap="127.0.0.1:1",
        planner_enabled=False,
    )
    app = build(settings, Configured(Renderer(IDENTITY), POLICY))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://scheduler", headers=auth_headers()
    ) as client:
        yield client


async def _preview(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/templates/preview", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_stage_and_channel_is_rendered(client: httpx.AsyncClient) -> None:
    body = await _preview(client, locale="en_US")

    previews = body["previews"]
    expected = {
        (spec.key, template, channel.value)
        for spec in POLICY.stages
        for template in spec.templates
        for channel in spec.channels
    }
    assert expected <= {(p["stage_key"], p["template"], p["channel"]) for p in previews}
    for preview in previews:
        assert preview["body"]
        assert preview["locale"] == "en_US"
        if preview["channel"] == "email":
            assert preview["subject"]
            assert preview["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        else:
            assert preview["subject"] is None
            assert preview["headers"] == {}


async def test_one_stage_one_channel_in_chinese(client: httpx.AsyncClient) -> None:
    body = await _preview(client, locale="zh_CN", stage="urgency", channel="sms")

    assert body["locale"] == "zh_CN"
    [preview] = body["previews"]
    assert (preview["stage_key"], preview["channel"], preview["locale"]) == (
        "urgency",
        "sms",
        "zh_CN",
    )
    assert any("\u4e00" <= c <= "\u9fff" for c in preview["body"])


async def test_spanish_email_is_in_spanish(client: httpx.AsyncClient) -> None:
    body = await _preview(client, locale="es_US", stage="friendly_reminder", channel="email")

    assert {p["template"] for p in body["previews"]} == {"friendly_reminder", "follow_up"}
    assert all(p["locale"] == "es_US" for p in body["previews"])


async def test_unknown_stage_is_404_naming_the_known_ones(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/templates/preview", params={"stage": "nope"})

    assert response.status_code == 404
    assert "friendly_reminder" in response.json()["detail"]


async def test_unknown_channel_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/templates/preview", params={"channel": "pigeon"})

    assert response.status_code == 422


async def test_the_money_messages_are_previewed_under_plans(client: httpx.AsyncClient) -> None:
    body = await _preview(client, locale="es_US", stage="plans", channel="sms")

    previews = body["previews"]
    assert {p["template"] for p in previews} == POLICY.plans.template_names()
    assert {p["stage_key"] for p in previews} == {"plans"}
    reminder = next(p for p in previews if p["template"] == "installment_reminder")
    assert "$411.52" in reminder["body"]
    assert "STOP" in reminder["body"]
