"""In-memory fakes of dunning_channels.ports, approvals to feed them (no mocks), and an app
serving a worker's webhook routes alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from dunning_channels import domain
from dunning_channels.bootstrap import answer_503_unless_durable
from dunning_channels.ports import Pacing, Parked, Sender
from dunning_channels.service import SendApprovals
from dunning_core.contracts import Channel, MessageContent, OutreachStep, Stage, step_id
from dunning_core.contracts.envelope import Envelope, wrap
from dunning_core.contracts.events import DeliveryStatus, DeliveryUpdated, StepApproved
from dunning_core.runtime.clock import FixedClock
from fastapi import APIRouter, FastAPI

NOW = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
PHONE = "+14155550100"


def approval(
    account_id: str = "acc-1",
    *,
    destination: str = PHONE,
    body: str = "Acme: $1,234.50 is due. Reply STOP to opt out.",
    vetted_body: str | None = None,
    attempt: int = 1,
    send_by: datetime | None = None,
    event_id: str | None = None,
) -> Envelope:
    """An approval envelope; ``vetted_body`` differing from ``body`` breaks its hash."""
    content = MessageContent(body=body)
    vetted = MessageContent(body=vetted_body) if vetted_body is not None else content
    step = OutreachStep(
        step_id=step_id(account_id, "debt-1", "friendly_reminder", "sms", attempt),
        debt_id="debt-1",
        stage=Stage.FRIENDLY_REMINDER,
        channel=Channel.SMS,
        attempt=attempt,
        destination=destination,
        content=content,
        content_hash=vetted.content_hash(),
        send_at=NOW,
    )
    approved = StepApproved(
        account_id=account_id,
        step=step,
        approved_at=NOW,
        policy_version="test",
        send_by=send_by,
    )
    return wrap(approved, "gate", event_id=event_id)


def step_of(envelope: Envelope) -> str:
    """The id of the step an approval envelope carries."""
    assert isinstance(envelope.data, StepApproved)
    return envelope.data.step.step_id


Answer = domain.SendOutcome | Exception


class FakeSender:
    """Answers from a script per destination (the last answer repeats); counts calls."""

    def __init__(
        self,
        *answers: Answer,
        by_destination: dict[str, list[Answer]] | None = None,
        on_send: Callable[[], None] | None = None,
    ) -> None:
        self.default = list(answers)
        self.by_destination = by_destination or {}
        self.on_send = on_send  # e.g. move a fake clock while "the provider" answers
        self.calls: list[tuple[str, str]] = []
        self.timeouts: list[float | None] = []  # the bound of each call
        self.found: list[domain.Lookup] = [
            domain.LookupFailed("no answer scripted")
        ]  # what find says
        self.lookups: list[str] = []

    @property
    def provider(self) -> Literal["twilio"]:
        return "twilio"

    def sender_id(self, step: OutreachStep) -> str:
        return "+15005550006"

    async def find(self, account_id: str, step: OutreachStep, since: float) -> domain.Lookup:
        self.lookups.append(step.step_id)
        return self.found.pop(0) if len(self.found) > 1 else self.found[0]

    async def send(
        self, account_id: str, step: OutreachStep, timeout_s: float | None = None
    ) -> domain.SendOutcome:
        self.calls.append((account_id, step.step_id))
        self.timeouts.append(timeout_s)
        if self.on_send is not None:
            self.on_send()
        script = self.by_destination.get(step.destination, self.default)
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class MemorySendRecords:
    """``SendRecords`` in dictionaries."""

    def __init__(self) -> None:
        self.steps: dict[str, str] = {}
        self.owner_sets: dict[str, set[str]] = {}
        self.suppressed: set[str] = set()
        self.calls: dict[str, dict[str, float]] = {}  # key -> step id -> until

    async def reserve(self, step_id: str) -> str | None:
        if step_id in self.steps:
            return self.steps[step_id]
        self.steps[step_id] = "pending"
        return None

    async def record(self, step_id: str, provider_message_id: str) -> None:
        self.steps[step_id] = provider_message_id

    async def release(self, step_id: str) -> None:
        self.steps.pop(step_id, None)

    async def remember_owner(self, destination: str, account_id: str) -> None:
        self.owner_sets.setdefault(destination.lower(), set()).add(account_id)

    async def owners(self, destination: str) -> set[str]:
        return set(self.owner_sets.get(destination.lower(), set()))

    async def suppress(self, destination: str) -> None:
        self.suppressed.add(destination.lower())

    async def unsuppress(self, destination: str) -> None:
        self.suppressed.discard(destination.lower())

    async def is_suppressed(self, destination: str) -> bool:
        return destination.lower() in self.suppressed

    async def any_suppressed(self, keys: Sequence[str]) -> bool:
        return any(key.lower() in self.suppressed for key in keys)

    async def begin_call(self, step_id: str, keys: Sequence[str], until: float) -> None:
        for key in keys:
            self.calls.setdefault(key.lower(), {})[step_id] = until

    async def end_call(self, step_id: str, keys: Sequence[str]) -> None:
        for key in keys:
            self.calls.get(key.lower(), {}).pop(step_id, None)

    async def calling(self, keys: Sequence[str], now: float) -> int:
        return sum(
            1 for key in keys for until in self.calls.get(key.lower(), {}).values() if until > now
        )


class MemoryAnswerLog:
    """The inbound texts already answered, in memory (the sms ingress's ``AnswerLog``)."""

    def __init__(self) -> None:
        self.claimed: set[str] = set()

    async def first(self, message_sid: str) -> bool:
        if message_sid in self.claimed:
            return False
        self.claimed.add(message_sid)
        return True


class MemoryLocales:
    """The locale each number is written to, in memory (the sms worker's ``Locales``)."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    async def remember(self, number: str, locale: str) -> None:
        self.known[number] = locale

    async def locale_of(self, number: str) -> str | None:
        return self.known.get(number)


class MemoryPublisher:
    """Keeps what was published; every send is acknowledged at once, unless told to fail
    (``fail_with``, raised by the acknowledgement) or to never acknowledge (``hold``)."""

    def __init__(self, *, fail_with: Exception | None = None, hold: bool = False) -> None:
        self.sent: list[Envelope] = []
        self.topics: list[str | None] = []  # the topic each was sent to, when not its own
        self.fail_with = fail_with
        self.hold = hold

    async def send(self, envelope: Envelope, topic: str | None = None) -> Awaitable[Any]:
        self.sent.append(envelope)
        self.topics.append(topic)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail_with is not None:
            done.set_exception(self.fail_with)
        elif not self.hold:
            done.set_result(None)
        return done

    def events(self) -> list[Any]:
        return [e.data for e in self.sent]

    def deliveries(self) -> list[tuple[DeliveryStatus, str | None]]:
        """The status and error code of each ``DeliveryUpdated`` published, in order."""
        return [(e.status, e.error_code) for e in self.events() if isinstance(e, DeliveryUpdated)]


class MemoryRetryQueue:
    """``RetryQueue`` in a dictionary: step id -> (due time, item)."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[float, Parked]] = {}

    async def park(self, item: Parked, due_at: float) -> None:
        self.items[item.step_id] = (due_at, item)

    async def claim(self, now: float, lease_s: float) -> Parked | None:
        due = sorted((at, step_id) for step_id, (at, _) in self.items.items() if at <= now)
        if not due:
            return None
        step_id = due[0][1]
        item = self.items[step_id][1]
        self.items[step_id] = (now + lease_s, item)
        return item

    async def done(self, step_id: str) -> None:
        self.items.pop(step_id, None)

    async def size(self) -> int:
        return len(self.items)

    async def holds(self, step_id: str) -> bool:
        return step_id in self.items


class MemoryJournal:
    """A ``SendJournal`` fake: the steps with an intent (what a restore after a Redis loss
    would reserve) and the steps withdrawn, in order. A test changes a step's part in a
    subclass."""

    def __init__(self) -> None:
        self.intents: set[str] = set()
        self.withdrawn: list[str] = []
        self.outcomes: dict[str, str] = {}  # settled steps' recorded outcomes

    async def intend(self, item: Parked, reconcile_at: float) -> None:
        self.intents.add(item.step_id)

    async def settled(self, item: Parked, outcome: str | None = None) -> Awaitable[Any] | None:
        if outcome is not None:
            self.outcomes[item.step_id] = outcome
        return None

    async def abandon(self, step_id: str) -> None:
        self.intents.discard(step_id)
        self.withdrawn.append(step_id)

    async def restore_if_lost(self) -> bool:
        return False


class MemoryPacer:
    """``Pacer`` in a dictionary of the buckets' arrival times."""

    def __init__(self) -> None:
        self.tats: dict[str, float] = {}

    async def reserve(self, buckets: Sequence[tuple[str, domain.Rate]], now: float) -> float:
        names = [name for name, _ in buckets]
        turn, moved = domain.next_turn(
            [self.tats.get(n) for n in names], [r for _, r in buckets], now
        )
        self.tats.update(zip(names, moved, strict=True))
        return turn


class MemoryDeadLetters:
    """Keeps (envelope, reason) of every dead letter."""

    def __init__(self) -> None:
        self.letters: list[tuple[Envelope, str]] = []

    async def dead_letter(self, envelope: Envelope, reason: str) -> Awaitable[Any]:
        self.letters.append((envelope, reason))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class FakeWall:
    """Wall seconds that move only when told to."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    """A ``SendApprovals`` on fakes, with the fakes at hand."""

    service: SendApprovals
    records: MemorySendRecords
    publisher: MemoryPublisher
    retries: MemoryRetryQueue
    dead: MemoryDeadLetters
    wall: FakeWall

    async def settle(self, rounds: int = 50) -> None:
        """Flush the batch, then run every parked retry as it falls due."""
        await self.service.flush()
        for _ in range(rounds):
            if not self.retries.items:
                return
            self.wall.now = max(self.wall.now, min(at for at, _ in self.retries.items.values()))
            await self.service.retry_due()
            await self.service.drain_retries()
        raise AssertionError("retries never ended")


def rig(
    sender: Sender,
    records: MemorySendRecords | None = None,
    *,
    clock: FixedClock | None = None,
    concurrency: int = 32,
    policy: domain.RetryPolicy | None = None,
    pacing: Pacing | None = None,
    guard: domain.SendGuard | None = None,
) -> Rig:
    """A ``SendApprovals`` for the sms channel on in-memory fakes and a fake wall clock."""
    records = records or MemorySendRecords()
    publisher = MemoryPublisher()
    retries = MemoryRetryQueue()
    dead = MemoryDeadLetters()
    wall = FakeWall()
    service = SendApprovals(
        service="sms",
        channel=Channel.SMS,
        sender=sender,
        records=records,
        publisher=publisher,
        clock=clock or FixedClock(NOW),
        retries=retries,
        dead_letters=dead,
        policy=policy,
        pacing=pacing,
        guard=guard,
        concurrency=concurrency,
        wall=wall,
        rand=lambda: 0.5,
    )
    return Rig(service, records, publisher, retries, dead, wall)


def webhook_app(routes: APIRouter, *, ack_timeout_s: float | None = None) -> FastAPI:
    """An app serving only ``routes``; given ``ack_timeout_s``, it answers 503 unless the
    broker acknowledged in time, as the ingress does."""
    app = FastAPI()
    app.include_router(routes)
    if ack_timeout_s is not None:
        answer_503_unless_durable(app, ack_timeout_s=ack_timeout_s)
    return app
