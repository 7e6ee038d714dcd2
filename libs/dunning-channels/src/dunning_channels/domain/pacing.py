"""Pacing: how fast a provider and each sender may be sent to, as shared turns.

Each bucket (a provider, a sender number or address) has a rate and a burst, and keeps
one number: its theoretical arrival time (GCRA). A send reserves the first instant every
bucket it goes through allows, and moves each bucket past it; reservations are served in
the order they were made, so a message waiting for its turn keeps its place. Pure: the
store that shares the numbers across replicas is an adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """``per_s`` sends a second, ``burst`` of them at once after a pause."""

    per_s: float
    burst: int = 1

    @property
    def interval_s(self) -> float:
        return 1.0 / self.per_s


def next_turn(
    tats: Sequence[float | None], rates: Sequence[Rate], now: float
) -> tuple[float, list[float]]:
    """The instant of the next turn through every bucket (their arrival times ``tats``,
    None for an idle one) and each bucket's arrival time once that turn is taken."""
    known = [now if tat is None else max(tat, now) for tat in tats]
    turn = max(
        [now]
        + [tat - (rate.burst - 1) * rate.interval_s for tat, rate in zip(known, rates, strict=True)]
    )
    return turn, [max(tat, turn) + rate.interval_s for tat, rate in zip(known, rates, strict=True)]
