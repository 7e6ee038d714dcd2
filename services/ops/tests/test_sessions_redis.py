"""Sessions on the real Redis: a restarted dashboard (a new app object) still knows a
signed-in user, another replica does too, and sign-out ends the session everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from dunning_core.contracts.access import Role
from dunning_ops.config import OpsSettings
from dunning_ops.domain.sessions import COOKIE
from dunning_testkit.ops import KEYS, OpsFakes
from dunning_testkit.stack import REDIS_URL
from fastapi import FastAPI
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(stack: None, prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}ops:session:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def dashboard(prefix: str) -> FastAPI:
    """One dashboard process as `make up` starts it, but for the services it reads."""
    settings = OpsSettings(
        session_key="a-session-key-for-tests", redis_url=REDIS_URL, topic_prefix=prefix
    )
    return OpsFakes(sessions=None).app(settings)


async def page(app: FastAPI, cookie: str, path: str = "/") -> httpx.Response:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as http,
    ):
        http.cookies.set(COOKIE, cookie)
        return await http.get(path)


async def test_a_session_outlives_a_restart_and_sign_out_ends_it(redis: Redis, prefix: str) -> None:
    first = dashboard(prefix)
    async with (
        first.router.lifespan_context(first),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://ops") as http,
    ):
        signed = await http.post("/signin", data={"key": KEYS[Role.OPERATOR], "next": "/"})
        assert signed.status_code == 303
        cookie = signed.cookies[COOKIE]
        assert (await http.get("/")).status_code == 200
    stored = [key async for key in redis.scan_iter(match=f"{prefix}ops:session:*")]
    assert len(stored) == 1
    ttl = await redis.ttl(stored[0])
    assert 8 * 3600 - 60 < ttl <= 8 * 3600  # the session's lifetime, not forever
    value = await redis.get(stored[0])
    assert isinstance(value, bytes)
    assert KEYS[Role.OPERATOR].encode() not in value
    assert cookie.split(".")[0].encode() not in value

    # The process restarts (a new app object: nothing in memory carries over).
    restarted = dashboard(prefix)
    answer = await page(restarted, cookie)
    assert answer.status_code == 200, answer.text
    assert "ops-operator" in answer.text or "operator" in answer.text

    # Sign out on a third replica: the session is gone from Redis and everywhere.
    third = dashboard(prefix)
    async with (
        third.router.lifespan_context(third),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=third), base_url="http://ops") as http,
    ):
        http.cookies.set(COOKIE, cookie)
        form = await http.get("/accounts")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = await http.post("/signout", data={"csrf": csrf})
        assert out.status_code == 303
    assert [key async for key in redis.scan_iter(match=f"{prefix}ops:session:*")] == []
    after = await page(dashboard(prefix), cookie)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/signin")
