"""The gate's consumer: state events and planned steps, co-partitioned, decided in batches.

Every input topic is keyed by account id and has the same partition count, and the
group uses the range assignor, so one member owns partition *p* of every topic: all the
events about an account reach the member that decides its steps.

Per batch: find which partitions' accounts, signals and delivery topics are not caught up
to their end offsets; their planned steps wait (handed back unread, the planned partition
paused until it has caught up), so an opt-out that reached the broker before the decision
always wins, and a step re-planned after its approval expired (the scheduler re-plans on
the delivery report) finds that approval no longer in force. Read the states of the
accounts involved and the partitions' watermarks in one Redis MULTI; apply state events
in log order; decide the planned steps (the scheduler's holds and withdrawals beside them
are not judged); save the states with the new watermarks (approvals are counted before they
are announced), publish decisions and approvals, then commit. If Redis or Kafka fails, the
batch is handed back and retried: nothing is approved on a guess.

The watermark (see ``dunning_gate.domain.watermark``) of partition *p* names, for each input
topic, the next offset the saved states cover. The save that writes a batch's states
writes it too, with the offsets the batch is about to commit, so the state never claims
less than what the group has committed. The gate keeps the committed offsets in memory:
fetched from Kafka once per assignment (after a rebalance another replica may have moved
them), then updated by each of its commits. A partition is rebuilt, by replaying its
state topics from the beginning while its planned steps wait, when

* its watermark is gone: Redis lost the state (``rebuilds`` in the health report);
* its watermark is below a committed offset: Redis came back from an older copy (a
  backup restored, a failover to a lagging replica), and the records it lacks will not
  be read again (``stale_rebuilds``);
* its watermark went back between the batch's read and its write: the same, while the
  batch was being decided (``stale_rebuilds``). The save checks the watermarks it
  overwrites and writes nothing if they moved; one moved forward (a replica that has not
  yet seen a rebalance saved after our read) only means the batch is retried.

A rebuild first deletes the watermark and writes it back only once the replay has caught up,
so a gate stopped half-way rebuilds again rather than trusting a partial state.

The gate's own decisions topic is read only while rebuilding. Every approval on it was
counted in Redis before it was published (by whichever replica published it), so in
steady running reading it back changes nothing; its partitions stay paused, and their
end offsets are committed with each batch so that the group's lag stays truthful.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from dunning_core.contracts import topics as T
from dunning_core.contracts.envelope import Envelope
from dunning_core.contracts.events import StepHeld, StepPlanned, StepWithdrawn
from dunning_core.runtime import tracing
from dunning_core.runtime.clock import Clock
from dunning_core.runtime.kafka import (
    Backoff,
    Batches,
    ConsumerLifecycle,
    EventProducer,
    decode_batch,
)

from dunning_gate.domain import watermark
from dunning_gate.domain.state import prune
from dunning_gate.ports import Decider, StateStore, WatermarkMoved
from dunning_gate.service import GateStats, apply_event, decide_step

log = logging.getLogger(__name__)
STATE_TOPICS = (T.ACCOUNTS, T.SIGNALS, T.DELIVERY, T.DECISIONS)


class _OnAssignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Calls `assigned` once each rebalance has handed this member its partitions."""

    def __init__(self, assigned: Callable[[], None]) -> None:
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._assigned()


class GatePipeline(ConsumerLifecycle):
    """The gate's group member: co-partitioned state events and planned steps, per batch."""

    stats: GateStats
    process_empty = True  # a quiet fetch still learns what caught up

    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        store: StateStore,
        producer: EventProducer,
        decide: Decider,
        clock: Clock,
        topic_prefix: str = "",
        max_records: int = 2000,
        history_days: int = 35,
        backoff: Backoff | None = None,
        outage_reminder_s: float = 30.0,
    ) -> None:
        self.state_topics = {topic_prefix + t for t in STATE_TOPICS}
        self.planned_topic = topic_prefix + T.PLANNED
        self._committed_fetched: set[TopicPartition] = set()
        self._bootstrap = bootstrap
        super().__init__(
            consumer=self._new_consumer,
            group_id=group_id,
            producer=producer,
            max_records=max_records,
            backoff=backoff,
            outage_reminder_s=outage_reminder_s,
        )
        self.stats = GateStats()
        self.prefix = topic_prefix
        self.store = store
        self.decide = decide
        self.clock = clock
        self.history_days = history_days
        self.must_catch_up = {topic_prefix + t for t in (T.ACCOUNTS, T.SIGNALS, T.DELIVERY)}
        self.own_decisions = topic_prefix + T.DECISIONS
        # Offsets known to be committed: fetched once per assignment, then updated by each
        # of our commits. A watermark below them means Redis went back in time.
        self._committed: dict[TopicPartition, int] = {}
        self._waiting: set[int] = set()  # partition indexes whose planned steps must wait
        self.rebuilding: set[int] = set()
        self.ready = False

    def _new_consumer(self) -> AIOKafkaConsumer:
        """A consumer co-partitioned over every input topic (built again on a restart)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            fetch_max_wait_ms=50,
            partition_assignment_strategy=(RangePartitionAssignor,),
            max_poll_interval_ms=600_000,
        )
        # While our partitions were elsewhere another replica may have committed: after
        # every rebalance, the committed offsets are fetched again.
        consumer.subscribe(
            [self.planned_topic, *sorted(self.state_topics)],
            listener=_OnAssignment(self._committed_fetched.clear),
        )
        return consumer

    def before_fetch(self) -> None:
        self._fetch_only_what_can_be_used(self._waiting)

    def on_failure(self, exc: Exception) -> None:
        # Redis or Kafka away, or anything unexpected: nothing of this batch is committed,
        # it is fetched again after a pause. Fail closed.
        self.ready = False

    def _partitions(self) -> set[int]:
        return {tp.partition for tp in self._consumer.assignment()}

    def _fetch_only_what_can_be_used(self, waiting: set[int]) -> None:
        """Pause what the next batches could not use; resume the rest.

        Planned steps of a partition whose state topics lag (or that is being rebuilt)
        would only be held back and fetched again; our own decisions are read only to
        rebuild (see module doc). A rebalance hands partitions over unpaused, so this
        runs before every fetch, and again as soon as a batch knows what lags."""
        consumer = self._consumer
        paused = consumer.paused()
        pause, resume = [], []
        for tp in consumer.assignment():
            if tp.topic == self.planned_topic:
                idle = tp.partition in waiting or tp.partition in self.rebuilding
            elif tp.topic == self.own_decisions:
                idle = tp.partition not in self.rebuilding
            else:
                continue
            if idle and tp not in paused:
                pause.append(tp)
            elif not idle and tp in paused:
                resume.append(tp)
        if pause:
            consumer.pause(*pause)
        if resume:
            consumer.resume(*resume)

    async def process(self, batches: Batches) -> None:
        partitions = self._partitions()
        self.rebuilding &= partitions  # a partition handed over mid-rebuild is the new owner's
        await self._learn_committed()
        lagging, commits = await self._catch_up(partitions)
        # Planned steps of a partition whose state topics lag (or that is being rebuilt)
        # wait: they are handed back unread, and no state is loaded for them.
        waiting = lagging | self.rebuilding
        held: dict[TopicPartition, int] = {}
        decoded: list[tuple[ConsumerRecord[Any, Any], Envelope]] = []
        dead: list[tuple[ConsumerRecord[Any, Any], str]] = []
        for tp, records in batches.items():
            if not records:
                continue
            if tp.topic == self.planned_topic and tp.partition in waiting:
                held[tp] = records[0].offset
                continue
            decode_batch(records, decoded, dead)

        states, stored = await self.store.load((e.subject for _, e in decoded), partitions)
        lost, behind = watermark.judge(stored, self._committed, partitions - self.rebuilding)
        if lost or behind:
            if lost:
                log.warning(
                    "gate state missing in Redis: rebuilding from the log",
                    extra={"partitions": sorted(lost)},
                )
            if behind:
                self._count_stale(
                    "gate state in Redis is older than the committed offsets: rebuilding",
                    behind,
                )
            await self._begin_rebuild(lost | behind.keys(), batches)
            return

        # State first, in log order per account (co-partitioned: one partition index).
        dirty: set[str] = set()
        for record, envelope in decoded:
            if record.topic in self.state_topics and apply_event(
                states[envelope.subject], envelope
            ):
                dirty.add(envelope.subject)
        self.stats.state_events += sum(1 for r, _ in decoded if r.topic in self.state_topics)

        finished = self.rebuilding - lagging
        for tp, records in batches.items():
            if records and tp.topic in self.state_topics:
                commits[tp] = records[-1].offset + 1

        outgoing: list[Envelope] = []
        now = self.clock.now()
        for record, envelope in decoded:
            if record.topic != self.planned_topic:
                continue
            tp = TopicPartition(record.topic, record.partition)
            planned = envelope.data
            if isinstance(planned, StepHeld | StepWithdrawn):
                commits[tp] = record.offset + 1
                continue
            if not isinstance(planned, StepPlanned):
                dead.append((record, f"{envelope.type} does not belong on {record.topic}"))
                continue
            state = states[envelope.subject]
            with tracing.hop("gate.decide", envelope) as envelope:  # its events: children
                outgoing.extend(decide_step(self.decide, planned, envelope, state, now, self.stats))
            dirty.add(envelope.subject)
            commits[tp] = record.offset + 1
        for tp, first_held in held.items():
            self._consumer.seek(tp, first_held)
            self.stats.held_back += 1
        self._waiting = waiting - finished
        self._fetch_only_what_can_be_used(self._waiting)
        for tp, records in batches.items():
            if records and tp.topic == self.planned_topic and tp not in held and tp not in commits:
                commits[tp] = records[-1].offset + 1

        for account_id in dirty:
            prune(states[account_id], now, self.history_days)
        # Approvals are counted in Redis before they are announced: parallel approvals can
        # never exceed a cap, and a replay finds the step already approved. The watermarks
        # go with the states, before the offsets they name are committed.
        try:
            await self.store.save(
                (states[a] for a in dirty),
                watermark.advanced(
                    self._committed,
                    commits,
                    ({tp.partition for tp in commits} - self.rebuilding) | finished,
                ),
                stored,
            )
        except WatermarkMoved as moved:
            back = {
                p
                for p, now in moved.now.items()
                if p in self._partitions()
                and watermark.went_back(watermark.parse(stored.get(p)), watermark.parse(now))
            }
            if not back:
                # Moved on by a replica that still thought it owned the partition: this
                # batch is retried on what it saved.
                raise
            self._count_stale(
                "gate state in Redis went back while the batch was decided: rebuilding",
                {p: {} for p in back},
            )
            await self._begin_rebuild(back, batches)
            return
        await self.producer.publish(outgoing)
        if dead:
            await self.dead_letter(dead)
        if finished:
            self.rebuilding -= finished
            log.info("state rebuilt from the log", extra={"partitions": sorted(finished)})
        if commits:
            await self._consumer.commit(commits)
            self._committed.update(commits)
        self.ready = not self.rebuilding and bool(partitions)

    async def _catch_up(self, partitions: set[int]) -> tuple[set[int], dict[TopicPartition, int]]:
        """Partition indexes whose state topics have records not yet applied, and the
        end offsets of our idle decisions partitions (to commit as read).

        Accounts, consumer signals and delivery reports must be caught up before any
        decision. The gate's own decisions only matter while rebuilding: in normal
        running, approvals are in Redis before they are published.
        """
        assignment = self._consumer.assignment()
        rebuilding = self.rebuilding & partitions
        tps = {TopicPartition(t, p) for t in self.must_catch_up for p in partitions}
        tps |= {TopicPartition(t, p) for t in self.state_topics for p in rebuilding}
        idle = {TopicPartition(self.own_decisions, p) for p in partitions - rebuilding}
        wanted = [tp for tp in tps | idle if tp in assignment]
        if not wanted:
            return set(), {}
        ends = await self._consumer.end_offsets(wanted)
        lagging = set()
        for tp in tps:
            if tp in ends and await self._consumer.position(tp) < ends[tp]:
                lagging.add(tp.partition)
        moved = {tp: ends[tp] for tp in idle if tp in ends and self._committed.get(tp) != ends[tp]}
        return lagging, moved

    async def _learn_committed(self) -> None:
        """Fetch the committed offsets of partitions assigned since they were last fetched."""
        missing = [tp for tp in self._consumer.assignment() if tp not in self._committed_fetched]
        if not missing:
            return
        offsets = await asyncio.gather(*(self._consumer.committed(tp) for tp in missing))
        for tp, offset in zip(missing, offsets, strict=True):
            if offset is None:
                self._committed.pop(tp, None)
            else:
                self._committed[tp] = offset
        self._committed_fetched.update(missing)

    def _count_stale(
        self, message: str, behind: Mapping[int, Mapping[str, tuple[int, int]]]
    ) -> None:
        self.stats.stale_rebuilds += 1
        log.warning(
            message,
            extra={
                "partitions": sorted(behind),
                "behind": [
                    f"{topic}[{p}] applied {applied} < committed {committed}"
                    for p, gap in sorted(behind.items())
                    for topic, (applied, committed) in sorted(gap.items())
                ],
            },
        )

    async def _begin_rebuild(self, lost: set[int], batches: Batches) -> None:
        """Hand the batch back and replay the partitions' state topics from the beginning;
        their planned steps wait until the replay has caught up."""
        self.stats.rebuilds += 1
        self.ready = False
        # No watermark until the replay is over: a gate stopped half-way starts it again
        # rather than trusting what it finds.
        await self.store.forget(lost)
        self.rewind(batches)
        tps = [
            TopicPartition(t, p)
            for t in self.state_topics
            for p in lost
            if TopicPartition(t, p) in self._consumer.assignment()
        ]
        await self._consumer.seek_to_beginning(*tps)
        self.rebuilding |= lost

    def health(self) -> dict[str, Any]:
        s = self.stats
        counters = ("decided", "allowed", "deferred", "blocked", "state_events", "held_back")
        return {
            "ok": self.running and self.last_error is None,
            "outage": self.outage.report(),
            "ready": self.ready,
            "rebuilding_partitions": sorted(self.rebuilding),
            "assigned_partitions": sorted(self._partitions()) if self.running else [],
            **{name: getattr(s, name) for name in counters},
            "rebuilds": s.rebuilds,
            "stale_rebuilds": s.stale_rebuilds,
            "retries": s.retries,
            "last_error": self.last_error,
            "at": time.time(),
        }
