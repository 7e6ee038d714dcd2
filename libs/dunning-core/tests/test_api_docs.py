"""The API docs page needs no CDN: every asset it names is served by the service itself."""

from __future__ import annotations

import re

import httpx
from dunning_core.runtime.api_docs import DOCS_OFF, serve_api_docs
from fastapi import FastAPI


def app() -> FastAPI:
    made = FastAPI(title="Example", **DOCS_OFF)
    serve_api_docs(made)

    @made.get("/v1/things")
    async def things() -> list[str]:
        return []

    return made


async def test_the_docs_page_loads_its_assets_from_the_service() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", page.text)
        named = [a or b for a, b in urls]
        assert named, page.text
        assert not [u for u in named if u.startswith(("http://", "https://", "//"))], named
        for url in named:
            answer = await http.get(url)
            assert answer.status_code == 200, url
            assert answer.content, url
        assert (await http.get("/openapi.json")).json()["paths"]["/v1/things"]
