"""The gate's consumer: state events and planned steps, co-partitioned, decided in batches.

Every input topic is keyed by account id and has the same partition count, and the
group uses the range assignor, so one member owns partition *p* of every topic: all the
events about an account reach the member that decides its steps.

Per batch: find which partitions' accounts and signals topics are not caught up to their
end offsets; their planned steps wait (handed back unread, the planned partition paused
until it has caught up), so an opt-out that reached the broker before the decision always
wins. Read the states of the accounts involved and the partitions' watermarks in one
Redis MULTI; apply state events in log order; decide the planned steps; save the states
with the new watermarks (approvals are counted before they are announced), publish
decisions and approvals, then commit.
If Redis or Kafka fails, the batch is handed back and retried: nothing is approved on
a guess.

The watermark (see ``dunning_gate.watermark``) of partition *p* names, for each input
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

A rebuild first deletes the watermark and writes it back only once the replay has caught
up, so a gate stopped half-way rebuilds again rather than trusting a partial state.

The gate's own decisions topic is read only while rebuilding. Every approval on it was
counted in Redis before it was published (by whichever replica published it), so in
steady running reading it back changes nothing; its partitions stay paused, and their
end offsets are committed with each batch so that the group's lag stays truthful.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from dunning_core.contracts import topics as T
from dunning_core.contracts.envelope import Envelope, EnvelopeError, decode, wrap
from dunning_core.contracts.events import (
    AccountOpened,
    AccountUpdated,
    ConsumerSignaled,
    Decision,
    DeliveryUpdated,
    StepApproved,
    StepDecided,
    StepPlanned,
)
from dunning_core.runtime.clock import Clock
from dunning_core.runtime.kafka import Backoff, EventProducer, dead_letter

from dunning_gate import watermark
from dunning_gate.adapters.redis_state import RedisStateStore, WatermarkMoved
from dunning_gate.state import (
    AccountState,
    apply_account,
    apply_approval,
    apply_delivery,
    apply_signal,
    prune,
)

log = logging.getLogger(__name__)
SERVICE = "compliance-gate"
STATE_TOPICS = (T.ACCOUNTS, T.SIGNALS, T.DELIVERY, T.DECISIONS)

Decider = Callable[[StepPlanned, str, AccountState, datetime], StepDecided]

# A batch keeps thousands of young objects alive (records, events, states, decisions):
# with CPython's default gen-0 threshold (700) they were scanned over and over, and each
# full collection walked every module, schema and policy object loaded at start-up.
# Together that was ~15% of the gate's CPU (see docs/perf/gate.md).
GC_THRESHOLDS = (50_000, 20, 20)


def settle_heap() -> None:
    """Move what start-up built out of the collector's sight and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@dataclass
class GateStats:
    decided: int = 0
    allowed: int = 0
    deferred: int = 0
    blocked: int = 0
    state_events: int = 0
    replays: int = 0
    held_back: int = 0
    dead_lettered: int = 0
    retries: int = 0
    rebuilds: int = 0
    stale_rebuilds: int = 0  # of those, started because Redis held an older state
    by_rule: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _OnAssignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Calls `assigned` once each rebalance has handed this member its partitions."""

    def __init__(self, assigned: Callable[[], None]) -> None:
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._assigned()


class GatePipeline:
    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        store: RedisStateStore,
        producer: EventProducer,
        decide: Decider,
        clock: Clock,
        topic_prefix: str = "",
        max_records: int = 2000,
        history_days: int = 35,
        backoff: Backoff | None = None,
    ) -> None:
        self.group_id = group_id
        self.prefix = topic_prefix
        self.store = store
        self.producer = producer
        self.decide = decide
        self.clock = clock
        self.history_days = history_days
        self.max_records = max_records
        self.backoff = backoff or Backoff()
        self.stats = GateStats()
        self.state_topics = {topic_prefix + t for t in STATE_TOPICS}
        self.planned_topic = topic_prefix + T.PLANNED
        self.must_catch_up = {topic_prefix + T.ACCOUNTS, topic_prefix + T.SIGNALS}
        self.own_decisions = topic_prefix + T.DECISIONS
        # Offsets known to be committed: fetched once per assignment, then updated by each
        # of our commits. A watermark below them means Redis went back in time.
        self._committed: dict[TopicPartition, int] = {}
        self._committed_fetched: set[TopicPartition] = set()
        self._waiting: set[int] = set()  # partition indexes whose planned steps must wait
        self.rebuilding: set[int] = set()
        self.ready = False
        self.last_error: str | None = None
        self._stopping = asyncio.Event()
        self.running = False
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            fetch_max_wait_ms=50,
            partition_assignment_strategy=(RangePartitionAssignor,),
            max_poll_interval_ms=600_000,
        )
        # While our partitions were elsewhere another replica may have committed: after
        # every rebalance, the committed offsets are fetched again.
        self._consumer.subscribe(
            [self.planned_topic, *sorted(self.state_topics)],
            listener=_OnAssignment(self._committed_fetched.clear),
        )

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        await self._consumer.start()
        settle_heap()
        self.running = True

    def request_stop(self) -> None:
        self._stopping.set()

    async def stop(self) -> None:
        self.request_stop()
        if self.running:
            self.running = False
            await self._consumer.stop()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._fetch_only_what_can_be_used(self._waiting)
                batches = await self._consumer.getmany(timeout_ms=200, max_records=self.max_records)
                try:
                    await self.process(batches)
                    self.last_error = None
                except Exception as exc:
                    # Redis or Kafka away, or anything unexpected: nothing of this batch is
                    # committed, it is fetched again after a pause. Fail closed.
                    self.stats.retries += 1
                    self.ready = False
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("gate batch failed, retrying", extra={"error": self.last_error})
                    self._rewind(batches)
                    await asyncio.sleep(self.backoff.delay(min(self.stats.retries, 6)))
        finally:
            await self.stop()

    # --- one batch -----------------------------------------------------------------

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

    def _rewind(self, batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        for tp, records in batches.items():
            if records and tp in self._consumer.assignment():
                self._consumer.seek(tp, records[0].offset)

    async def process(self, batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
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
            for record in records:
                where = f"{record.topic}[{record.partition}]@{record.offset}"
                try:
                    decoded.append(
                        (record, decode(record.key, record.value, record.headers, where=where))
                    )
                except EnvelopeError as exc:
                    dead.append((record, str(exc)))

        states, stored = await self.store.load((e.subject for _, e in decoded), partitions)
        lost, behind = self._judge(stored, partitions - self.rebuilding)
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

        # State first, in log order per account (co-partitioning keeps an account's
        # events on one partition index across topics).
        dirty: set[str] = set()
        for record, envelope in decoded:
            if record.topic in self.state_topics and self._apply(
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
            if not isinstance(planned, StepPlanned):
                dead.append((record, f"{envelope.type} does not belong on {record.topic}"))
                continue
            state = states[envelope.subject]
            outgoing.extend(self._decide(planned, envelope, state, now))
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
                (states[a] for a in dirty), self._watermarks(commits, finished), stored
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
            await self._dead_letter(dead)
        if finished:
            self.rebuilding -= finished
            log.info("state rebuilt from the log", extra={"partitions": sorted(finished)})
        if commits:
            await self._consumer.commit(commits)
            self._committed.update(commits)
        self.ready = not self.rebuilding and bool(partitions)

    def _apply(self, state: AccountState, envelope: Envelope) -> bool:
        data = envelope.data
        if isinstance(data, AccountOpened | AccountUpdated):
            return apply_account(state, data)
        if isinstance(data, ConsumerSignaled):
            return apply_signal(state, data)
        if isinstance(data, DeliveryUpdated):
            return apply_delivery(state, data)
        if isinstance(data, StepDecided):
            return apply_approval(state, data, data.destination or "", data.decided_at)
        return False

    def _decide(
        self, planned: StepPlanned, envelope: Envelope, state: AccountState, now: datetime
    ) -> list[Envelope]:
        step = planned.step
        previous = state.approved(step.step_id)
        if previous is not None and step.content_hash:
            # Already approved (a replay): announce the same approval again, same ids.
            self.stats.replays += 1
            decided_at = previous.at
            decision = self.decide(planned, envelope.id, state, decided_at)
            decision = decision.model_copy(
                update={"decision": Decision.ALLOW, "findings": (), "not_before": None}
            )
        else:
            decision = self.decide(planned, envelope.id, state, now)
        out = [wrap(decision, SERVICE, traceparent=envelope.traceparent)]
        self.stats.decided += 1
        if decision.decision is Decision.ALLOW:
            self.stats.allowed += 1
            apply_approval(state, decision, step.destination, decision.decided_at)
            approval = StepApproved(
                account_id=planned.account_id,
                step=step,
                approved_at=decision.decided_at,
                policy_version=decision.policy_version,
            )
            out.append(wrap(approval, SERVICE, traceparent=envelope.traceparent))
        else:
            if decision.decision is Decision.DEFER:
                self.stats.deferred += 1
            else:
                self.stats.blocked += 1
            for finding in decision.findings:
                self.stats.by_rule[finding.rule_id] += 1
        return out

    async def _catch_up(self, partitions: set[int]) -> tuple[set[int], dict[TopicPartition, int]]:
        """Partition indexes whose state topics have records not yet applied, and the
        end offsets of our idle decisions partitions (to commit as read).

        Accounts and consumer signals must be caught up before any decision. The gate's
        own decisions and the delivery reports only matter while rebuilding: in normal
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

    def _judge(
        self, stored: Mapping[int, bytes | None], partitions: set[int]
    ) -> tuple[set[int], dict[int, dict[str, tuple[int, int]]]]:
        """Of these partitions, those Redis holds no state for, and those whose state is
        older than what the group has committed (with the topics that are behind)."""
        applied = {p: watermark.parse(stored.get(p)) for p in partitions}
        lost = {p for p, offsets in applied.items() if offsets is None}
        committed = watermark.by_partition(
            (tp, offset) for tp, offset in self._committed.items() if tp.partition in partitions
        )
        behind = watermark.stale(
            {p: offsets for p, offsets in applied.items() if offsets is not None}, committed
        )
        return lost, behind

    def _watermarks(
        self, commits: Mapping[TopicPartition, int], finished: set[int]
    ) -> dict[int, str]:
        """The new watermark of each partition whose offsets this batch commits, and of each
        partition whose rebuild it finishes: what was committed before, moved by `commits`.
        A partition still being rebuilt gets none until its rebuild is over."""
        covered = ({tp.partition for tp in commits} - self.rebuilding) | finished
        if not covered:
            return {}
        offsets = watermark.by_partition(
            (tp, offset)
            for tp, offset in (*self._committed.items(), *commits.items())
            if tp.partition in covered
        )
        return {p: watermark.render(offsets.get(p, {})) for p in covered}

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

    async def _begin_rebuild(
        self, lost: set[int], batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        """Hand the batch back and replay the partitions' state topics from the beginning;
        their planned steps wait until the replay has caught up."""
        self.stats.rebuilds += 1
        self.ready = False
        # No watermark until the replay is over: a gate stopped half-way starts it again
        # rather than trusting what it finds.
        await self.store.forget(lost)
        self._rewind(batches)
        tps = [
            TopicPartition(t, p)
            for t in self.state_topics
            for p in lost
            if TopicPartition(t, p) in self._consumer.assignment()
        ]
        await self._consumer.seek_to_beginning(*tps)
        self.rebuilding |= lost

    async def _dead_letter(self, dead: Sequence[tuple[ConsumerRecord[Any, Any], str]]) -> None:
        await dead_letter(self.producer, dead, self.group_id)
        self.stats.dead_lettered += len(dead)

    def health(self) -> dict[str, Any]:
        s = self.stats
        return {
            "ok": self.running and self.last_error is None,
            "ready": self.ready,
            "rebuilding_partitions": sorted(self.rebuilding),
            "assigned_partitions": sorted(self._partitions()) if self.running else [],
            "decided": s.decided,
            "allowed": s.allowed,
            "deferred": s.deferred,
            "blocked": s.blocked,
            "state_events": s.state_events,
            "held_back": s.held_back,
            "rebuilds": s.rebuilds,
            "stale_rebuilds": s.stale_rebuilds,
            "retries": s.retries,
            "last_error": self.last_error,
            "at": time.time(),
        }
