"""``SignalsApplied`` on Kafka: the signals topic's end offsets against what the worker's
signals consumer group has committed.

The group commits a batch only after its suppressions are written, so once its committed
offset reaches the end offset a partition had when a send asked, every signal recorded
before that moment is a suppression the send's last check will see. One round (a
ListOffsets and an OffsetFetch) serves every send that asked before it began: concurrent
sends share it. A partition the group never committed counts from 0, so a worker whose
signals consumer has not read the topic yet sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, InitVar, dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from dunning_core.runtime.errors import TransientError
from dunning_core.runtime.kafka_admin import partitions_of


class _NoPartitions(Exception):
    """The topic's metadata has not reached this client yet (a topic just created)."""


@dataclass(frozen=True)
class _Round:
    started: float
    task: asyncio.Task[None]


@dataclass(eq=False)
class KafkaSignalsApplied:
    bootstrap: InitVar[str]
    topic: str
    group_id: str
    _: KW_ONLY
    bound_s: float = 20.0
    poll_s: float = 0.02
    min_gap_s: float = 0.05
    relookup_s: float = 1.0
    monotonic: Callable[[], float] = time.monotonic
    _consumer: AIOKafkaConsumer = field(init=False)
    _admin: AIOKafkaAdminClient = field(init=False)
    _round: _Round | None = field(default=None, init=False)
    _known: list[TopicPartition] = field(default_factory=list, init=False)
    _known_until: float = field(default=0.0, init=False)
    # the group's coordinator, found once
    _coordinator: int | None = field(default=None, init=False)
    # on first use: a broker away at start-up holds sends, not boot
    _started: bool = field(default=False, init=False)
    rounds: int = field(default=0, init=False)
    waits: int = field(default=0, init=False)  # rounds that found the group behind at least once

    def __post_init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self._consumer.stop()
            await self._admin.close()

    async def wait(self) -> None:
        asked = self.monotonic()
        while True:
            current = self._round
            if current is not None and current.started >= asked:
                await asyncio.shield(current.task)  # its failure is ours too
                return
            if current is not None and not current.task.done():
                # Begun before we asked: it may miss a signal recorded since. Ours comes next.
                with contextlib.suppress(Exception):
                    await asyncio.shield(current.task)
                continue
            # Rounds at most every min_gap_s: under load one begins as the last ends, three
            # broker requests each (16 % of a busy sms worker's CPU in the pipeline bench);
            # a send waits that much longer instead. A round counts from when it asks.
            last = current.started if current is not None else float("-inf")
            begins = max(self.monotonic(), last + self.min_gap_s)
            self._round = _Round(begins, asyncio.create_task(self._caught_up(begins)))

    async def _caught_up(self, begins: float) -> None:
        if (wait := begins - self.monotonic()) > 0:
            await asyncio.sleep(wait)
        self.rounds += 1
        deadline = self.monotonic() + self.bound_s
        while True:
            try:
                await self._wait_until_applied(deadline)
                return
            except (KafkaError, _NoPartitions) as exc:
                # A broker restarting (NodeNotReady, NotLeader): asked again within the bound
                # rather than failing every send of the batch at once.
                if self.monotonic() >= deadline:
                    raise TransientError(f"signals' offsets unreadable: {exc!r}") from exc
                await asyncio.sleep(max(self.poll_s, 0.2))

    async def _wait_until_applied(self, deadline: float) -> None:
        if not self._started:
            await self._consumer.start()
            await self._admin.start()
            self._started = True
        partitions = await self._partitions()
        ends = await self._consumer.end_offsets(partitions)
        waited, asked_at = False, self.monotonic()
        while True:
            if waited and self.monotonic() - asked_at >= self.relookup_s:
                # Behind for a while: the coordinator may have moved. One that no longer
                # is answers with no offsets and no error aiokafka raises (chaos1796598604:
                # after the preferred leaders came back, every send of a worker waited out
                # the bound, round after round, for 24 minutes), so it is found again.
                self._coordinator, asked_at = None, self.monotonic()
            committed = await self._committed(partitions)
            behind = [
                tp.partition
                for tp in partitions
                if ends[tp] > max(getattr(committed.get(tp), "offset", 0) or 0, 0)
            ]
            if not behind:
                return
            if self.monotonic() >= deadline:
                raise TransientError(f"signals not applied yet on {self.topic} partitions {behind}")
            if not waited:
                waited, self.waits = True, self.waits + 1
            await asyncio.sleep(self.poll_s)

    async def _committed(self, partitions: list[TopicPartition]) -> dict[TopicPartition, Any]:
        """The group's committed offsets. Its coordinator is looked up once, not on every
        round (a FindCoordinator each round was 6 % of a busy sms worker's samples), and
        again after any error: a coordinator that moved answers NotCoordinator."""
        if self._coordinator is None:
            self._coordinator = await self._admin.find_coordinator(self.group_id)
        try:
            committed: dict[TopicPartition, Any] = await self._admin.list_consumer_group_offsets(
                self.group_id, self._coordinator, partitions
            )
            return committed
        except KafkaError:
            self._coordinator = None
            raise

    async def _partitions(self) -> list[TopicPartition]:
        """The topic's partitions, asked again after a minute (partitions can be added)."""
        if self._known and self.monotonic() < self._known_until:
            return self._known
        known = await partitions_of(self._admin, self.topic)
        if not known:
            raise _NoPartitions(f"topic {self.topic} has no partitions known yet")
        self._known = known
        self._known_until = self.monotonic() + 60.0
        return self._known
