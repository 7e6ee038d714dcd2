"""What the dashboard observes of the running system: health, metric samples, dead letters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    service: str
    ok: bool
    status: int | None  # None: unreachable
    detail: str = ""


@dataclass(frozen=True)
class Sample:
    """One Prometheus sample of one service."""

    service: str
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class DeadQueue:
    topic: str  # without the run's prefix
    size: int  # records retained (end offset less start offset, summed over partitions)


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str | None
    error: str
    source: str  # topic:partition:offset it came from
    group: str
    headers: dict[str, str]
    value: str
