"""Running a service: background components beside a FastAPI app, one health endpoint.

A service's bootstrap registers its components (consumer loops, pollers); the app's
lifespan starts them in order and stops them in reverse, so a SIGTERM drains the batch
in hand, commits, and exits cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from dunning_core.runtime.kafka import ConsumerLoop

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Component:
    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]
    run: Callable[[], Awaitable[None]] | None = None


@dataclass
class ServiceRuntime:
    """Owns a service's components and background tasks."""

    name: str
    components: list[Component] = field(default_factory=list)
    checks: dict[str, HealthCheck] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _started: list[Component] = field(default_factory=list)

    def add(self, component: Component) -> None:
        self.components.append(component)

    def add_loop(self, name: str, loop: ConsumerLoop) -> None:
        async def check() -> dict[str, Any]:
            s = loop.stats
            return {
                "ok": loop.running,
                "handled": s.handled,
                "duplicates": s.duplicates,
                "dead_lettered": s.dead_lettered,
                "retries": s.retries,
            }

        self.add(Component(name, loop.start, loop.stop, loop.run))
        self.checks[name] = check

    async def start(self) -> None:
        for component in self.components:
            await component.start()
            self._started.append(component)
            if component.run is not None:
                self._tasks[component.name] = asyncio.create_task(
                    self._supervise(component), name=component.name
                )
        log.info("service started", extra={"components": [c.name for c in self.components]})

    async def _supervise(self, component: Component) -> None:
        assert component.run is not None
        try:
            await component.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("component crashed", extra={"component": component.name})
            raise

    async def stop(self) -> None:
        for component in reversed(self._started):
            with contextlib.suppress(Exception):
                await component.stop()
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._started.clear()
        self._tasks.clear()

    def live(self) -> tuple[bool, dict[str, Any]]:
        """Alive unless a supervised loop has died: only a restart brings that back.

        Kafka, Redis or the database being away is not a reason to restart (the loops
        retry on their own); ``health`` reports those, for readiness."""
        dead = sorted(name for name, task in self._tasks.items() if task.done())
        return not dead, {"service": self.name, "ok": not dead, "dead_loops": dead}

    async def health(self) -> tuple[bool, dict[str, Any]]:
        report: dict[str, Any] = {
            "service": self.name,
            "uptime_s": round(time.time() - self.started_at),
        }
        ok = True
        for name, task in self._tasks.items():
            if task.done():
                ok = False
                report[name] = {"ok": False, "error": "stopped"}
        for name, check in self.checks.items():
            try:
                result = await check()
            except Exception as exc:
                result = {"ok": False, "error": str(exc)}
            report[name] = {**report.get(name, {}), **result} if name in report else result
            ok = ok and bool(result.get("ok", True)) and report[name].get("ok", True) is not False
        report["ok"] = ok
        return ok, report


def health_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter()

    @router.get("/health", tags=["ops"])
    async def health() -> JSONResponse:
        ok, report = await runtime.health()
        return JSONResponse(report, status_code=200 if ok else 503)

    @router.get("/health/live", tags=["ops"])
    async def live() -> JSONResponse:
        ok, report = runtime.live()
        return JSONResponse(report, status_code=200 if ok else 503)

    return router


def lifespan_for(
    runtime: ServiceRuntime,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return lifespan


def serve(factory: Callable[[], FastAPI], host: str, port: int, log_level: str = "warning") -> None:
    """Build the app inside the event loop (Kafka clients insist) and run it until
    SIGTERM/SIGINT; uvicorn drives the lifespan, which starts and stops the components."""

    async def main() -> None:
        app = factory()
        config = uvicorn.Config(
            app, host=host, port=port, log_level=log_level, access_log=False, lifespan="on"
        )
        await uvicorn.Server(config).serve()

    asyncio.run(main())
