"""The one clock every service reads: wall time, or an accelerated simulation of it.

The accelerated clock is shared across processes by configuration alone: every service
gets the same start instant, the same real epoch and the same speed, so they agree on
"now" without talking to each other.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, instant: datetime) -> None: ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, instant: datetime) -> None:
        await asyncio.sleep(max(0.0, (instant - self.now()).total_seconds()))


class AcceleratedClock:
    """Simulated time: ``start + (real_now - epoch) * speed``."""

    def __init__(self, start: datetime, speed: float, epoch: float | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self.epoch = time.time() if epoch is None else epoch

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.epoch) * self.speed)

    async def sleep_until(self, instant: datetime) -> None:
        simulated = (instant - self.now()).total_seconds()
        await asyncio.sleep(max(0.0, simulated / self.speed))


class FixedClock:
    """A clock that only moves when told to: for tests of our own code."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta

    async def sleep_until(self, instant: datetime) -> None:
        if instant > self.instant:
            self.instant = instant
        await asyncio.sleep(0)


def clock_from(start: datetime | None, speed: float, epoch: float | None) -> Clock:
    if start is None:
        return WallClock()
    return AcceleratedClock(start, speed, epoch)
