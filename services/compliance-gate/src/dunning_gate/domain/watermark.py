"""How far into the log the gate's state in Redis reaches, and whether it is behind (pure).

A partition index's watermark is, for each input topic of that index, the next offset the
saved states cover: ``{"accounts.v1": 1042, "outreach.planned.v1": 877, ...}``. It is
saved atomically with the states it describes, before those offsets are committed, so
in a Redis that only ever moves forward it is never below the group's committed
offsets. If it is below (a backup restored, a failover to a lagging replica), the state
lacks records the group will never read again (opt-outs, disputes, approvals): the
partition must be rebuilt from the log.

A missing watermark means the partition was never built, or its rebuild has not
finished.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

Offsets = Mapping[str, int]
"""Next offset per topic name, for one partition index."""


def render(offsets: Offsets) -> str:
    """Compact JSON with sorted keys: the same offsets always give the same bytes."""
    return json.dumps(dict(sorted(offsets.items())), separators=(",", ":"))


def parse(raw: bytes | str | None) -> dict[str, int] | None:
    """The offsets of a stored watermark; ``None`` when absent or unreadable (not built)."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    offsets = {}
    for topic, offset in value.items():
        if type(offset) is not int:
            return None
        offsets[topic] = offset
    return offsets


def behind(applied: Offsets, committed: Offsets) -> dict[str, tuple[int, int]]:
    """Topics whose committed offset the state has not reached: ``{topic: (applied,
    committed)}``. A topic the watermark does not name counts as applied up to 0."""
    return {
        topic: (applied.get(topic, 0), offset)
        for topic, offset in committed.items()
        if applied.get(topic, 0) < offset
    }


def stale(
    applied: Mapping[int, Offsets], committed: Mapping[int, Offsets]
) -> dict[int, dict[str, tuple[int, int]]]:
    """Partition indexes whose watermark is behind their committed offsets, with the
    topics that are behind. Partitions without a watermark are not judged here."""
    found = {}
    for partition, offsets in applied.items():
        gap = behind(offsets, committed.get(partition, {}))
        if gap:
            found[partition] = gap
    return found


def went_back(loaded: Offsets | None, now: Offsets | None) -> bool:
    """Whether a watermark that changed while a batch was decided now covers less of the
    log than when the batch read it (Redis restored or emptied), rather than more
    (another replica saved a newer state)."""
    if now is None:
        return loaded is not None
    return loaded is not None and bool(behind(now, loaded))


def by_partition(offsets: Iterable[tuple[tuple[str, int], int]]) -> dict[int, dict[str, int]]:
    """``((topic, partition), offset)`` pairs grouped by partition index."""
    grouped: dict[int, dict[str, int]] = {}
    for (topic, partition), offset in offsets:
        grouped.setdefault(partition, {})[topic] = offset
    return grouped


Positions = Mapping[tuple[str, int], int]
"""Next offset per (topic, partition)."""


def judge(
    stored: Mapping[int, bytes | str | None], committed: Positions, partitions: set[int]
) -> tuple[set[int], dict[int, dict[str, tuple[int, int]]]]:
    """Of these partitions, those the store holds no state for, and those whose state is
    older than what the group has committed (with the topics that are behind)."""
    applied = {p: parse(stored.get(p)) for p in partitions}
    lost = {p for p, offsets in applied.items() if offsets is None}
    committed_here = by_partition(
        (tp, offset) for tp, offset in committed.items() if tp[1] in partitions
    )
    found = stale(
        {p: offsets for p, offsets in applied.items() if offsets is not None}, committed_here
    )
    return lost, found


def advanced(committed: Positions, commits: Positions, covered: set[int]) -> dict[int, str]:
    """The new watermark of each ``covered`` partition (those whose offsets a batch commits,
    or whose rebuild it finishes; never one still being rebuilt): what was committed
    before, moved by ``commits``."""
    if not covered:
        return {}
    offsets = by_partition(
        (tp, offset) for tp, offset in (*committed.items(), *commits.items()) if tp[1] in covered
    )
    return {p: render(offsets.get(p, {})) for p in covered}
