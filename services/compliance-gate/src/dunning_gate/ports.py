"""What the gate's use cases need from the outside world, as Protocols.

``StateStore`` keeps the derived account states and, per partition index, the watermark
saying how far into the log they reach (``dunning_gate.domain.watermark``). The Redis
adapter (``dunning_gate.adapters.redis_state``) is the production one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dunning_core.contracts.events import StepDecided, StepPlanned

from dunning_gate.domain.state import AccountState


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision, and for an allow the instant it lapses (the approval's ``send_by``)."""

    event: StepDecided
    send_by: datetime | None = None


Decider = Callable[[StepPlanned, str, AccountState, datetime], Decided]
"""Decides one planned step: (planned, planned event id, account state, now) → decision."""


class WatermarkMoved(Exception):
    """Partitions' watermarks changed in the store since the batch loaded them; ``now``
    holds what each of them holds now (``None``: deleted)."""

    def __init__(self, now: dict[int, bytes | None]) -> None:
        super().__init__(f"gate state watermark moved underneath the batch: {sorted(now)}")
        self.now = now


class StateStore(Protocol):
    async def load(
        self, account_ids: Iterable[str], partitions: Iterable[int]
    ) -> tuple[dict[str, AccountState], dict[int, bytes | None]]:
        """States of the accounts (empty ones for unknown), and each partition's
        watermark as stored (``None`` where there is none), read atomically."""
        ...

    async def save(
        self,
        states: Iterable[AccountState],
        watermarks: Mapping[int, str],
        loaded: Mapping[int, bytes | None],
    ) -> None:
        """Write states and watermarks, all or nothing, if each watermark still holds what
        was ``loaded``; else raise ``WatermarkMoved``."""
        ...

    async def forget(self, partitions: Iterable[int]) -> None:
        """Delete the partitions' watermarks: they are no longer built."""
        ...
