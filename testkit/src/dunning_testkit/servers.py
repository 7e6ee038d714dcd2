"""Helpers for tests that talk to a real sandbox over HTTP (no mocks).

`BackgroundServer` runs any ASGI app under uvicorn in a thread with its own event
loop, on a free loopback port, so synchronous SDK calls from a test cannot block it.
`WebhookRecorder` is a receiver that records every request and can refuse the first
few, to exercise the sandbox's retries. `recording_server`, `sandbox_server` and
`slow_server` serve the three the provider tests use; the fixtures ``receiver`` and
``slow`` (a pytest plugin, registered by the root conftest) serve one of the first and the
last per test module, ``sandbox`` a sandbox with the module's SANDBOX_SETTINGS, and
``stripe_sandbox`` a sandbox whose Stripe events go to ``receiver``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response


class BackgroundServer:
    """`with BackgroundServer(app) as server:` serves `app` at `server.base_url`.

    With ``factory=True``, ``app`` is a function that builds the app: it is called inside the
    server's own event loop, for apps whose clients insist on a running loop when made."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        startup_timeout_s: float = 10.0,
        *,
        factory: bool = False,
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", factory=factory
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)
        self._startup_timeout_s = startup_timeout_s

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the receiver saw it: the URL it was sent to, headers and raw body."""

    url: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    answered: int

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class WebhookRecorder:
    """An ASGI app recording every POST; answers `status` after `fail_first` 503s."""

    def __init__(self, status: int = 200, body: str = "", media_type: str = "text/plain") -> None:
        # Where it is served; set by whoever serves it (e.g. from `BackgroundServer.base_url`).
        self.base_url = ""
        self.status = status
        self.body = body
        self.media_type = media_type
        self.fail_first = 0
        self._requests: list[RecordedRequest] = []
        self._changed = threading.Condition()
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._receive, methods=["POST"])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        with self._changed:
            if self.fail_first > 0:
                self.fail_first -= 1
                answered = 503
            else:
                answered = self.status
            self._requests.append(
                RecordedRequest(
                    url=str(request.url),
                    path=request.url.path,
                    headers=dict(request.headers),
                    body=body,
                    answered=answered,
                )
            )
            self._changed.notify_all()
        return Response(self.body, status_code=answered, media_type=self.media_type)

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        with self._changed:
            return [r for r in self._requests if path is None or r.path == path]

    def wait_for(
        self,
        predicate: Callable[[list[RecordedRequest]], bool],
        path: str | None = None,
        timeout_s: float = 10.0,
    ) -> list[RecordedRequest]:
        """Block until `predicate(requests)` holds for the requests to `path`."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: predicate([r for r in self._requests if path is None or r.path == path]),
                timeout=timeout_s,
            )
            seen = [r for r in self._requests if path is None or r.path == path]
        if not ok:
            raise TimeoutError(f"condition not met within {timeout_s}s; saw {len(seen)} request(s)")
        return seen

    def clear(self) -> None:
        with self._changed:
            self._requests.clear()
            self.fail_first = 0


@contextmanager
def recording_server(
    status: int = 200, body: str = "", media_type: str = "text/plain"
) -> Iterator[WebhookRecorder]:
    """A served `WebhookRecorder`, its `base_url` set."""
    recorder = WebhookRecorder(status=status, body=body, media_type=media_type)
    with BackgroundServer(recorder.app) as server:
        recorder.base_url = server.base_url
        yield recorder


# The destinations the sandbox's Twilio refuses at once: (to, HTTP status, Twilio error code).
TWILIO_REFUSALS = [
    ("+15005550001", 400, 21211),
    ("+14155550004", 400, 21610),
    ("+14155550009", 400, 21614),
    ("+14155550429", 429, 20429),
    ("+14155550500", 500, 20500),
]


@contextmanager
def sandbox_server(**settings: Any) -> Iterator[str]:
    """The provider sandbox with these settings (a fresh signing key unless given); its URL."""
    from dunning_sandbox.app import create_app
    from dunning_sandbox.config import SandboxSettings

    settings.setdefault("sendgrid_signing_key_path", None)
    with BackgroundServer(create_app(SandboxSettings(**settings))) as server:
        yield server.base_url


@contextmanager
def slow_server(delay_s: float = 2.0) -> Iterator[str]:
    """A server that answers every POST after `delay_s`: a provider that times out."""
    app = FastAPI()

    @app.post("/{path:path}")
    async def slow(path: str) -> dict[str, str]:
        await asyncio.sleep(delay_s)
        return {}

    with BackgroundServer(app) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookRecorder]:
    """A `recording_server` for the test module."""
    with recording_server() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def slow() -> Iterator[str]:
    """A `slow_server` for the test module."""
    with slow_server() as url:
        yield url


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[str]:
    """A `sandbox_server` for the test module, with the settings of its SANDBOX_SETTINGS."""
    with sandbox_server(**request.module.SANDBOX_SETTINGS) as url:
        yield url


@pytest.fixture(scope="module")
def stripe_sandbox(request: pytest.FixtureRequest, receiver: WebhookRecorder) -> Iterator[str]:
    """A `sandbox_server` for the test module, with its SECRET_KEY, whose Stripe events are
    signed with its WEBHOOK_SECRET and go to ``receiver`` at its WEBHOOK_PATH: disputes 50 ms
    after the payment, delayed cards settled 100 ms after, refused deliveries tried again
    20 ms on."""
    module = request.module
    with sandbox_server(
        stripe_secret_key=module.SECRET_KEY,
        stripe_webhook_url=receiver.base_url + module.WEBHOOK_PATH,
        stripe_webhook_secret=module.WEBHOOK_SECRET,
        stripe_dispute_delay_ms=50,
        stripe_processing_delay_ms=100,
        callback_retry_base_ms=20,
    ) as url:
        yield url
