"""Agent tasks (pure): which replies need a person, when the person may act, and who may
claim, release or complete a task.

A reply the rules cannot answer (``call_me``: a call-back; ``unknown``: no rule understood
it) becomes a task. Its window is the consumer's allowed contact hours: the earliest
instant at or after the reply that is inside 08:00-21:00 local time in *every* candidate
zone of the account (the address's and every phone's, as the compliance gate judges hours;
``dunning_core.time_windows`` and ``time_zones``), until that window closes somewhere. It
is due ``DUE_WITHIN`` after the window opens, or at its close if that comes first.

A claim is a lease: it lapses ``lease`` after it was taken (renewed by claiming again),
so a task an agent walked away from goes back to the queue. Only the claimer, or an
admin, completes or releases it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_core.time_windows import next_window_start, window_close
from dunning_core.time_zones import DEFAULT_NO_LOCATION_ZONES, zones_of


class TaskKind(StrEnum):
    CALL_BACK = "call_back"  # the consumer asked to be called
    REVIEW_REPLY = "review_reply"  # a reply no rule understood
    DISPUTE_REVIEW = "dispute_review"  # reserved: a dispute that needs a person


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"


# FDCPA 1692c(a)(1): 8 a.m. to 9 p.m. at the consumer's location, the gate's hours rule.
CONTACT_START: Final = time(8, 0)
CONTACT_END: Final = time(21, 0)
DUE_WITHIN: Final = timedelta(hours=4)
INTENT_KINDS: Final[Mapping[str, TaskKind]] = {
    "call_me": TaskKind.CALL_BACK,
    "unknown": TaskKind.REVIEW_REPLY,
}


@dataclass(frozen=True, slots=True)
class DueWindow:
    opens_at: datetime
    closes_at: datetime
    due_at: datetime
    zones: tuple[str, ...]


def reply_task_kind(signal: ConsumerSignaled) -> TaskKind | None:
    """The task a reply needs, or None. A reply without an intent reads as ``unknown``
    (as the scheduler reads it)."""
    if signal.kind is not SignalKind.REPLIED:
        return None
    return INTENT_KINDS.get(signal.details.get("intent") or "unknown")


def task_id_for(source_event_id: str) -> str:
    """The task's id from its natural key (the signal's event id): a redelivered signal
    names the same task."""
    return "tsk_" + hashlib.sha256(f"reply:{source_event_id}".encode()).hexdigest()[:24]


def _valid(names: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        found.append(name)
    return tuple(dict.fromkeys(found))


def account_zones(consumer: Mapping[str, Any]) -> tuple[str, ...]:
    """Every zone the account's consumer may be in: zones the account names, the address's
    and each phone number's; the continental US, Alaska and Hawaii when none is known."""
    phones = consumer.get("phones") or ()
    numbers = [str(p["number"]) for p in phones if isinstance(p, Mapping) and p.get("number")]
    derived = zones_of(consumer.get("state"), consumer.get("zip_code"), numbers, ())
    return _valid([*(consumer.get("time_zones") or ()), *derived]) or DEFAULT_NO_LOCATION_ZONES


def due_window(now: datetime, zone_names: tuple[str, ...]) -> DueWindow:
    """The first allowed-hours window at or after ``now`` and the task's due instant.

    When the zones share no hour at all (say Guam and Hawaii), the first zone's window
    is used: the address's zone, where the consumer most likely is."""
    zones = tuple(ZoneInfo(n) for n in zone_names)
    opens = next_window_start(now, zones, CONTACT_START, CONTACT_END)
    if opens is None:
        zones = zones[:1]
        opens = next_window_start(now, zones, CONTACT_START, CONTACT_END)
    assert opens is not None  # one zone always has an 08:00 within a day or two
    closes = window_close(opens, zones, CONTACT_START, CONTACT_END)
    assert closes is not None
    return DueWindow(opens, closes, min(opens + DUE_WITHIN, closes), zone_names)


class Refusal(StrEnum):
    """Why a claim, release or completion is refused (each a 409)."""

    TAKEN = "claimed by another agent"
    CLOSED = "already closed"
    NOT_CLAIMED = "not claimed"
    NOT_CLAIMER = "claimed by another agent; only the claimer or an admin may do this"


@dataclass(frozen=True, slots=True)
class TaskState:
    """What the rules need of a stored task."""

    status: TaskStatus
    claimed_by: str | None
    lease_until: datetime | None

    def held(self, now: datetime) -> bool:
        """Claimed, and the lease still runs."""
        return (
            self.status is TaskStatus.CLAIMED
            and self.lease_until is not None
            and self.lease_until > now
        )

    def effective(self, now: datetime) -> TaskStatus:
        """A claim whose lease lapsed reads as open again."""
        if self.status is TaskStatus.CLAIMED and not self.held(now):
            return TaskStatus.OPEN
        return self.status


def may_claim(task: TaskState, who: str, now: datetime) -> Refusal | None:
    """None when ``who`` may claim (or renew its own claim on) the task."""
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return Refusal.CLOSED
    if task.held(now) and task.claimed_by != who:
        return Refusal.TAKEN
    return None


def may_finish(task: TaskState, who: str, admin: bool, now: datetime) -> Refusal | None:
    """None when ``who`` may release or complete the task: its claimer (even after the
    lease lapsed, as long as nobody else took it), or an admin."""
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return Refusal.CLOSED
    if admin:
        return None
    if task.status is not TaskStatus.CLAIMED:
        return Refusal.NOT_CLAIMED
    if task.claimed_by != who:
        return Refusal.NOT_CLAIMER
    return None
