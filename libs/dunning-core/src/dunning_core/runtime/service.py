"""Running a service: background components beside a FastAPI app, one health endpoint.

A service's bootstrap registers its components (consumer loops, pollers); the app's
lifespan starts them in order and stops them in reverse, so a SIGTERM drains the batch
in hand, commits, and exits cleanly.

A component whose ``run`` dies is restarted (``stop``, ``start``, ``run`` again) after a
capped, jittered backoff, for as long as the service runs. ``/health`` (readiness) says
which components are down or restarting and since when; ``/health/live`` fails only when
a component has stayed down longer than ``down_limit_s``: then only a new process helps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from dunning_core.runtime.kafka import Backoff, ConsumerLifecycle
from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.settings import CommonSettings
from dunning_core.runtime.telemetry import setup_telemetry

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


async def _nothing() -> None:
    return None


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
    restart_backoff: Backoff = field(default_factory=lambda: Backoff(initial=1.0, maximum=30.0))
    down_limit_s: float = 300.0
    restarts: dict[str, int] = field(default_factory=dict)
    _down: dict[str, tuple[float, str]] = field(default_factory=dict)  # since, error
    _stopping: bool = False
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _started: list[Component] = field(default_factory=list)

    def add(self, component: Component) -> None:
        self.components.append(component)

    def add_closing(self, name: str, close: Callable[[], Awaitable[None]]) -> None:
        """A component with nothing to start and ``close`` to call when the service stops
        (a client's connections)."""
        self.add(Component(name, _nothing, close))

    def add_loop(self, name: str, loop: ConsumerLifecycle) -> None:
        async def check() -> dict[str, Any]:
            return loop.health()

        self.add(Component(name, loop.start, loop.stop, loop.run))
        self.checks[name] = check

    async def start(self) -> None:
        self._stopping = False
        for component in self.components:
            await component.start()
            self._started.append(component)
            if component.run is not None:
                self._tasks[component.name] = asyncio.create_task(
                    self._supervise(component), name=component.name
                )
        log.info("service started", extra={"components": [c.name for c in self.components]})

    async def _supervise(self, component: Component) -> None:
        """Run the component; if it dies, restart it with backoff until the service stops."""
        assert component.run is not None
        name = component.name
        attempt = 0
        while not self._stopping:
            began = time.monotonic()
            try:
                await component.run()
                return  # it was asked to stop
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.exception("component died, restarting", extra={"component": name})
            if time.monotonic() - began > 60:
                attempt = 0  # it had been running well: start the backoff afresh
            since = self._down.get(name, (time.time(), error))[0]
            while not self._stopping:
                self._down[name] = (since, error)
                await asyncio.sleep(self.restart_backoff.delay(attempt))
                attempt += 1
                if self._stopping:
                    return
                with contextlib.suppress(Exception):
                    await component.stop()
                try:
                    await component.start()
                    break
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"[:500]
                    log.warning(
                        "component restart failed", extra={"component": name, "error": error}
                    )
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self._down.pop(name, None)
            log.info("component restarted", extra={"component": name})

    async def stop(self) -> None:
        self._stopping = True
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
        """Alive unless a supervised loop has ended, or stayed down (dying and failing to
        restart) longer than ``down_limit_s``: only a new process brings that back.

        Kafka, Redis or the database being away is not a reason to restart (the loops
        retry on their own); ``health`` reports those, for readiness."""
        now = time.time()
        dead = sorted(name for name, task in self._tasks.items() if task.done())
        stuck = sorted(
            name for name, (since, _) in self._down.items() if now - since > self.down_limit_s
        )
        dead = sorted({*dead, *stuck})
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
            elif name in self._down:
                ok = False
                since, error = self._down[name]
                report[name] = {
                    "ok": False,
                    "restarting": True,
                    "down_since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since)),
                    "error": error,
                }
            if self.restarts.get(name):
                report.setdefault(name, {})["restarts"] = self.restarts[name]
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


def run(name: str, settings: CommonSettings, factory: Callable[[], FastAPI], port: int) -> None:
    """A process's ``main``: logging and telemetry as ``settings`` say under ``name``,
    then :func:`serve`."""
    run_configured(name, settings, lambda: None, lambda _: factory(), port, refusals=())


C = TypeVar("C")


def run_configured(
    name: str,
    settings: CommonSettings,
    configure: Callable[[], C],
    factory: Callable[[C], FastAPI],
    port: int,
    refusals: tuple[type[Exception], ...],
) -> None:
    """:func:`run` for a service that first reads what it cannot start without (a policy,
    templates): ``configure()``, handed to ``factory``. When it raises one of ``refusals``
    the process refuses to start: the reason on stderr, exit status 2."""
    configure_logging(name, settings.log_level, settings.log_json)
    setup_telemetry(name, settings)
    try:
        configured = configure()
    except refusals as exc:
        print(f"{name}: refusing to start: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from exc
    serve(lambda: factory(configured), settings.http_host, port)
