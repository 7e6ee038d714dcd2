"""What the sandbox's stores share: records kept in memory, bounded, and their counters.

Past `capacity` records the oldest are forgotten (a long demo or load test must not grow
the process without end); the counters keep counting, so totals stay right.
"""

from __future__ import annotations

from collections import Counter
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def keep_bounded(items: dict[K, V], key: K, value: V, capacity: int) -> tuple[K, V] | None:
    """Store `value` under `key`; past `capacity` entries forget the oldest and return it."""
    items[key] = value
    if len(items) <= capacity:
        return None
    oldest = next(iter(items))
    return oldest, items.pop(oldest)


class BoundedRecords(Generic[R]):
    """Records by id (insertion ordered) plus counters that survive eviction."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._records: dict[str, R] = {}
        self.counts: Counter[str] = Counter()

    def get(self, key: str) -> R | None:
        return self._records.get(key)

    def clear(self) -> None:
        self._records.clear()
        self.counts.clear()

    def __len__(self) -> int:
        return len(self._records)
