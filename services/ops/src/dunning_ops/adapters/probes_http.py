"""Every service's ``/health`` and ``/metrics`` (Prometheus text, the shared bearer token).

Probed concurrently; a service that does not answer is reported down, never an error of
the page. Only the ``dunning_*`` families are kept (the process and Python ones are noise
here).
"""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from dunning_ops.ports import Health, Sample


def parse(service: str, text: str) -> list[Sample]:
    samples = []
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("dunning_"):
            continue
        for s in family.samples:
            samples.append(Sample(service, s.name, dict(s.labels), float(s.value)))
    return samples


class HttpProbes:
    def __init__(self, services: dict[str, str], token: str | None, timeout_s: float) -> None:
        self.services = services
        self.token = token
        self.http = httpx.AsyncClient(timeout=min(timeout_s, 5.0))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _health(self, name: str, url: str) -> Health:
        try:
            response = await self.http.get(f"{url}/health")
        except httpx.HTTPError as exc:
            return Health(name, False, None, type(exc).__name__)
        ok = response.status_code == 200
        detail = ""
        if not ok:
            try:
                checks = response.json().get("checks", {})
                detail = ", ".join(k for k, v in checks.items() if not v.get("ok", True))
            except (ValueError, AttributeError):
                detail = response.text[:100]
        return Health(name, ok, response.status_code, detail)

    async def health(self) -> list[Health]:
        return list(await asyncio.gather(*(self._health(n, u) for n, u in self.services.items())))

    async def _metrics(self, name: str, url: str) -> list[Sample]:
        if self.token is None:
            return []
        try:
            response = await self.http.get(
                f"{url}/metrics", headers={"Authorization": f"Bearer {self.token}"}
            )
        except httpx.HTTPError:
            return []
        if response.status_code != 200:
            return []
        return parse(name, response.text)

    async def samples(self) -> list[Sample]:
        found = await asyncio.gather(*(self._metrics(n, u) for n, u in self.services.items()))
        return [s for one in found for s in one]
