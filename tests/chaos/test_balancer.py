"""The chaos runs' balancer in front of the webhook receivers (loopback only, no stack)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from tests.chaos.balancer import Balancer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A receiver that answers 201 with the body it was sent, after 0.1 s."""
    seen: list[bytes] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(body)
        await asyncio.sleep(0.1)
        return web.Response(status=201, body=body)

    app = web.Application()
    app.router.add_post("/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_requests_skip_a_replica_that_is_not_listening(
    receiver: tuple[str, list[bytes]],
) -> None:
    url, seen = receiver
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    balancer = Balancer(free_port(), [down, url])
    await balancer.start()
    try:
        async with aiohttp.ClientSession() as http:
            bodies = [f"callback {n}".encode() for n in range(100)]

            async def post(body: bytes) -> tuple[int, bytes]:
                async with http.post(
                    f"http://127.0.0.1:{balancer.port}/webhooks/twilio/status?step_id=s",
                    data=body,
                ) as answer:
                    return answer.status, await answer.read()

            # Above the old pool's 20 kept-alive connections, all at once.
            answers = await asyncio.gather(*(post(body) for body in bodies))
    finally:
        await balancer.stop()
    assert answers == [(201, body) for body in bodies]
    assert sorted(seen) == sorted(bodies)  # each once, every one to the live replica


async def test_no_replica_listening_is_a_503() -> None:
    balancer = Balancer(free_port(), [f"http://127.0.0.1:{free_port()}"])
    await balancer.start()
    try:
        url = f"http://127.0.0.1:{balancer.port}/x"
        async with aiohttp.ClientSession() as http, http.post(url, data=b"1") as answer:
            assert answer.status == 503
    finally:
        await balancer.stop()
