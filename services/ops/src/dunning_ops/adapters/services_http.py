"""The ledger, the gate and the scheduler over their REST APIs, with the caller's key.

One ``httpx.AsyncClient`` per service, owned by the bootstrap; each request carries the
signed-in user's key in its own ``Authorization`` header. A 4xx becomes ``Upstream``.
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import quote

import httpx

from dunning_ops.ports import Upstream


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _answer(response: httpx.Response) -> Any:
    if 400 <= response.status_code < 500:
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:300]}
        if not isinstance(body, dict):
            body = {"error": str(body)[:300]}
        detail = body.get("detail")
        if "message" not in body and detail is not None:  # FastAPI's own 404 / 422 bodies
            body = {**body, "message": str(detail)[:500]}
        raise Upstream(response.status_code, body)
    response.raise_for_status()
    return response.json()


def _id(value: str) -> str:
    return quote(value, safe="")


class HttpService:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    @classmethod
    def connect(cls, base_url: str, timeout_s: float) -> Self:
        return cls(httpx.AsyncClient(base_url=base_url, timeout=timeout_s))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get(self, key: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return _answer(await self.http.get(path, params=params, headers=_auth(key)))

    async def post_json(self, key: str, path: str, body: Any) -> Any:
        return _answer(await self.http.post(path, json=body, headers=_auth(key)))


class HttpLedger(HttpService):
    async def figures(self, key: str, days: int) -> dict[str, Any]:
        return dict(await self.get(key, "/v1/portfolio/figures", {"days": days}))

    async def search(self, key: str, filters: dict[str, str]) -> dict[str, Any]:
        return dict(await self.get(key, "/v1/accounts", filters))

    async def account(self, key: str, account_id: str) -> dict[str, Any]:
        return dict(await self.get(key, f"/v1/accounts/{_id(account_id)}"))

    async def timeline(self, key: str, account_id: str) -> dict[str, Any]:
        return dict(await self.get(key, f"/v1/accounts/{_id(account_id)}/timeline"))

    async def communications(self, key: str, account_id: str) -> dict[str, Any]:
        return dict(await self.get(key, f"/v1/accounts/{_id(account_id)}/communications"))

    async def post(self, key: str, account_id: str, what: str, body: dict[str, Any]) -> Any:
        return await self.post_json(key, f"/v1/accounts/{_id(account_id)}/{what}", body)


class HttpGate(HttpService):
    async def evaluate(self, key: str, request: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.post_json(key, "/v1/evaluate", request))


class HttpScheduler(HttpService):
    async def stats(self, key: str) -> dict[str, Any]:
        return dict(await self.get(key, "/v1/stats"))
