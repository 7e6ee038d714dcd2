"""The two roots of every handler error, how an infrastructure error is recognised, and
how an outage is reported.

DunningError
├── TransientError   retry later: the broker, Redis or the database is unreachable
└── PermanentError   this input can never succeed: dead-letter it with the reason
    └── (EnvelopeError is treated as permanent by the consumer loop)

Libraries raise their own types for "the infrastructure is away" (a broken asyncpg
connection, SQLAlchemy's wrapper of it, a Redis connection error, a retriable Kafka
error): ``is_transient`` recognises them, anywhere in the exception's chain, so that a
loop retries them with backoff rather than dying or dead-lettering good input.

``Outage`` turns a stream of failures into three kinds of log line: one ERROR when the
outage starts, a WARNING reminder every ``remind_every`` seconds while it lasts, and one
INFO when it ends (a Kafka restart used to write thousands of ERROR lines a second).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import redis.exceptions
from aiokafka.errors import KafkaError


class DunningError(Exception):
    """Root of our errors."""


class TransientError(DunningError):
    """Retry with backoff; the record is not acknowledged."""


class PermanentError(DunningError):
    """The record can never be handled; it goes to the dead-letter topic."""


_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.TryAgainError,
)
# SQLAlchemy is not a dependency of the shared library: its connection-level errors are
# recognised by name (they also chain the driver's error, recognised above).
_SQLALCHEMY_TRANSIENT = frozenset(
    {"OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"}
)


def _transient_here(exc: BaseException) -> bool:
    if isinstance(exc, PermanentError):
        return False
    if isinstance(exc, KafkaError):
        return bool(getattr(exc, "retriable", False)) or isinstance(exc, ConnectionError)
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    kind = type(exc)
    if kind.__module__.startswith("sqlalchemy"):
        return kind.__name__ in _SQLALCHEMY_TRANSIENT or bool(
            getattr(exc, "connection_invalidated", False)
        )
    return False


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it wraps) means the broker, Redis or the database is
    unreachable or overloaded for now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, PermanentError):
            return False
        if _transient_here(current):
            return True
        seen.add(id(current))
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError keeps the driver's
        if isinstance(orig, BaseException) and _transient_here(orig):
            return True
        current = current.__cause__ or current.__context__
    return False


class Outage:
    """One component's failing dependency: logged once when it starts, reminded
    periodically, logged once when it ends; ``report`` for the health endpoint."""

    def __init__(
        self,
        component: str,
        log: logging.Logger,
        remind_every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.component = component
        self.log = log
        self.remind_every = remind_every
        self._clock = clock
        self._wall = wall
        self.since: float | None = None  # wall time the outage started
        self.last_error: str | None = None
        self.failures = 0
        self._started = 0.0
        self._reminded = 0.0

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        now = self._clock()
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]
        self.failures += 1
        if self.since is None:
            self.since = self._wall()
            self._started = self._reminded = now
            self.log.error(
                "outage started",
                extra={"component": self.component, "error": self.last_error},
            )
        elif now - self._reminded >= self.remind_every:
            self._reminded = now
            self.log.warning(
                "outage continues",
                extra={
                    "component": self.component,
                    "error": self.last_error,
                    "failures": self.failures,
                    "for_s": round(now - self._started, 1),
                },
            )

    def recovered(self) -> None:
        if self.since is None:
            return
        self.log.info(
            "outage ended",
            extra={
                "component": self.component,
                "failures": self.failures,
                "for_s": round(self._clock() - self._started, 1),
            },
        )
        self.since = None
        self.failures = 0
        self.last_error = None

    def report(self) -> dict[str, Any] | None:
        """``{"component", "since", "failures", "error"}`` while failing, else None."""
        if self.since is None:
            return None
        return {
            "component": self.component,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since)),
            "failures": self.failures,
            "error": self.last_error,
        }
