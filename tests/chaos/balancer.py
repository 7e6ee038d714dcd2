"""A load balancer in front of a service's replicas, as a cluster's Service/Ingress would be.

The provider sandbox calls the webhook receivers through it: each request goes to the next
replica that accepts a connection, so one replica's death is not the webhooks' outage (a
replica that accepts and then fails answers its own error, as behind a real balancer).

It forwards with aiohttp's client, connections kept alive and not capped below the
sandbox's own concurrency: with httpx's pool (20 kept-alive connections) the eighth and
ninth full runs spent 1-3 s a request here, where the receivers answered in 4-34 ms, and
the sandbox's status callbacks queued behind it (27 a second at most).
"""

from __future__ import annotations

import itertools

import aiohttp
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
MAX_CONNECTIONS = 256  # above the sandbox's callback concurrency (64)


class Balancer:
    def __init__(self, port: int, upstreams: list[str]) -> None:
        self.port = port
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=30),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=16 << 20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None, "start() first"
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        # Each replica once, from the next in turn (a shared cursor would let concurrent
        # requests take turns on the dead one and never reach the live one: 503s).
        start = next(self._next)
        for i in range(len(self.upstreams)):
            upstream = self.upstreams[(start + i) % len(self.upstreams)]
            try:
                async with self._http.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as answer:
                    content = await answer.read()
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            except aiohttp.ClientConnectorError:
                continue  # not listening: the next replica
            except (aiohttp.ClientError, TimeoutError):
                return web.Response(status=502, text="upstream failed")
            return web.Response(status=answer.status, body=content, headers=kept)
        return web.Response(status=503, text="no replica listening")
