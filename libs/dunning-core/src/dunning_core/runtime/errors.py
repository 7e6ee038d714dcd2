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
``RepeatFilter`` does the same for a client library's own lines (aiokafka logs every
failed connection attempt): the first of a kind passes, the same again only once per
interval, with the number held back.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter: attempt n waits between half and all of
    ``min(maximum, initial * 2**n)`` seconds."""

    initial: float = 0.2
    maximum: float = 10.0

    def delay(self, attempt: int) -> float:
        capped = min(self.maximum, self.initial * (2**attempt))
        return random.uniform(capped / 2, capped)


@dataclass(eq=False)
class Outage:
    """One component's failing dependency: logged once when it starts, reminded
    periodically, logged once when it ends; ``report`` for the health endpoint."""

    component: str
    log: logging.Logger
    remind_every: float = 30.0
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    since: float | None = field(default=None, init=False)  # wall time the outage started
    last_error: str | None = field(default=None, init=False)
    failures: int = field(default=0, init=False)
    _started: float = field(default=0.0, init=False)
    _reminded: float = field(default=0.0, init=False)

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        now = self.clock()
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]
        self.failures += 1
        if self.since is None:
            self.since = self.wall()
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
                "for_s": round(self.clock() - self._started, 1),
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


class RepeatFilter(logging.Filter):
    """Lets the first record of each (logger, level, message template) through, then at
    most one per ``interval`` seconds, saying how many were held back meanwhile."""

    def __init__(self, interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._last: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        seen = self._last.get(key)
        if seen is None or now - seen[0] >= self.interval:
            if seen is not None and seen[1]:
                record.msg = f"{record.msg} ({seen[1]} similar held back)"
            if len(self._last) > 1000:
                self._last.clear()
            self._last[key] = (now, 0)
            return True
        self._last[key] = (seen[0], seen[1] + 1)
        return False


_QUIETED: set[str] = set()


# aiokafka's loggers that report broker failures (a logger's filters do not see its
# children's records, so each one gets the filter).
KAFKA_CLIENT_LOGGERS = (
    "aiokafka",
    "aiokafka.conn",
    "aiokafka.cluster",
    "aiokafka.consumer.consumer",
    "aiokafka.consumer.fetcher",
    "aiokafka.consumer.group_coordinator",
    "aiokafka.producer.producer",
    "aiokafka.producer.sender",
)


def quiet_repeats(
    logger_names: tuple[str, ...] = KAFKA_CLIENT_LOGGERS, interval: float = 30.0
) -> None:
    """Install one shared ``RepeatFilter`` on these loggers (once per logger)."""
    repeat = RepeatFilter(interval)
    for name in logger_names:
        if name not in _QUIETED:
            _QUIETED.add(name)
            logging.getLogger(name).addFilter(repeat)
