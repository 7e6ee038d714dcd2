"""A load balancer in front of a service's replicas, as a cluster's Service/Ingress would be.

The provider sandbox calls the webhook receivers through it: each request goes to the next
replica that accepts a connection, so one replica's death is not the webhooks' outage (a
replica that accepts and then fails answers its own error, as behind a real balancer).
"""

from __future__ import annotations

import itertools

import httpx
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class Balancer:
    def __init__(self, port: int, upstreams: list[str]) -> None:
        self.port = port
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))
        self._runner: web.AppRunner | None = None
        self._http = httpx.AsyncClient(timeout=30)

    async def start(self) -> None:
        app = web.Application(client_max_size=16 << 20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._http.aclose()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        for _ in self.upstreams:
            upstream = self.upstreams[next(self._next)]
            try:
                answer = await self._http.request(
                    request.method, upstream + request.path_qs, content=body, headers=headers
                )
            except httpx.ConnectError:
                continue  # not listening: the next replica
            except httpx.HTTPError:
                return web.Response(status=502, text="upstream failed")
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            kept.pop("content-encoding", None)
            return web.Response(status=answer.status_code, body=answer.content, headers=kept)
        return web.Response(status=503, text="no replica listening")
