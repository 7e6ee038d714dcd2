"""A dispute or a cease the ledger recorded reaches a worker only on consumer.signals.v1,
moments later. The chaos run sent a text one second after a dispute was recorded on that
topic: the send had passed its last check before the worker's signals consumer applied it.
Now no send is checked before every signal on the topic when it asks is a suppression."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import NodeNotReadyError, NotCoordinatorForGroupError
from aiokafka.structs import OffsetAndMetadata
from dunning_channels.adapters.kafka_signals_applied import KafkaSignalsApplied
from dunning_channels.domain import Accepted
from dunning_channels.service import SuppressOnSignals
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import (
    ConsumerSignaled,
    DeliveryStatus,
    DeliveryUpdated,
    SignalKind,
)
from dunning_core.contracts.topics import SIGNALS
from dunning_core.runtime.errors import TransientError
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.channels import NOW, FakeSender, approval, rig
from dunning_testkit.stack import KAFKA


def dispute(account_id: str = "acc-1", n: int = 1) -> ConsumerSignaled:
    return ConsumerSignaled(
        account_id=account_id,
        signal_id=f"dispute-{n}",
        kind=SignalKind.DISPUTED,
        source="operator",
        occurred_at=NOW + timedelta(seconds=n),
    )


async def test_a_dispute_on_the_topic_but_not_yet_applied_stops_the_send() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)
    on_signals = SuppressOnSignals(Channel.SMS, parts.records)

    class CatchingUp:  # the signals consumer applies the dispute while the send waits
        async def wait(self) -> None:
            await on_signals.handle(wrap(dispute(), "ledger"))

    parts.service.signals = CatchingUp()
    await parts.service.handle(approval("acc-1"))
    await parts.service.flush()
    assert sender.calls == []  # old code: sent (it never waited for the signals)
    statuses = [e.status for e in parts.publisher.events() if isinstance(e, DeliveryUpdated)]
    assert statuses == [DeliveryStatus.REFUSED]


async def test_signals_that_cannot_be_shown_applied_hold_the_send_and_free_the_step() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)

    class Unknown:
        async def wait(self) -> None:
            raise TransientError("signals not applied yet")

    parts.service.signals = Unknown()
    envelope = approval("acc-1")
    await parts.service.handle(envelope)
    with pytest.raises(TransientError):
        await parts.service.flush()
    assert sender.calls == []

    class Applied:
        async def wait(self) -> None:
            return None

    parts.service.signals = Applied()
    await parts.service.handle(envelope)  # the batch redelivered
    await parts.service.flush()
    assert len(sender.calls) == 1  # sent once, not lost


@pytest.mark.integration
async def test_the_barrier_waits_for_the_signals_group_to_commit_past_the_end(
    producer: EventProducer, topics: str
) -> None:
    topic, group = f"{topics}{SIGNALS}", f"{topics}sms-signals"
    barrier = KafkaSignalsApplied(KAFKA, topic, group, bound_s=0.5, poll_s=0.01)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await barrier.wait()  # an empty topic: nothing to apply
        await (await producer.send(wrap(dispute(), "ledger")))
        with pytest.raises(TransientError, match="not applied yet"):
            await barrier.wait()  # on the topic, never read by the group
        await consumer.start()

        async def apply_and_commit() -> None:
            read = 0
            while read < 1:
                batch = await consumer.getmany(timeout_ms=200)
                read += sum(len(records) for records in batch.values())
            await consumer.commit()

        barrier.bound_s = 120.0  # a new group joins first (seconds on a loaded machine)
        await asyncio.gather(barrier.wait(), apply_and_commit())
        assert barrier.waits >= 2  # it waited for the commit at least once more
        await barrier.wait()  # caught up: at once
        await (await producer.send(wrap(dispute("acc-2", 2), "ledger")))
        waiting = asyncio.create_task(barrier.wait())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # a new dispute, not yet applied
        await apply_and_commit()
        await asyncio.wait_for(waiting, 10)
    finally:
        await consumer.stop()
        await barrier.stop()


@pytest.mark.integration
async def test_a_broker_not_ready_for_a_moment_is_asked_again_not_a_failed_batch(
    topics: str,
) -> None:
    # chaos1796575711: a broker restarting answered NodeNotReady once; every send of the
    # batch failed with it, the batch came again, and the redelivery raced its own retries.
    topic, group = f"{topics}{SIGNALS}", f"{topics}sms-signals"
    barrier = KafkaSignalsApplied(KAFKA, topic, group, bound_s=10.0, poll_s=0.01)
    try:
        await barrier.wait()  # started; an empty topic
        real = barrier._admin.list_consumer_group_offsets
        failures = [NodeNotReadyError("node 3 is not ready")]

        async def flaky(*args: Any, **kwargs: Any) -> Any:
            if failures:
                raise failures.pop()
            return await real(*args, **kwargs)

        barrier._admin.list_consumer_group_offsets = flaky
        await barrier.wait()  # old code: TransientError("signals' offsets unreadable")
        assert failures == []
    finally:
        await barrier.stop()


@pytest.mark.integration
async def test_the_groups_coordinator_is_looked_up_once_then_after_an_error(topics: str) -> None:
    topic, group = f"{topics}{SIGNALS}", f"{topics}sms-signals"
    barrier = KafkaSignalsApplied(KAFKA, topic, group, bound_s=10.0, poll_s=0.01, min_gap_s=0)
    try:
        await barrier.wait()  # started
        real_find = barrier._admin.find_coordinator
        real_fetch = barrier._admin.list_consumer_group_offsets
        finds: list[str] = []
        failures = [NotCoordinatorForGroupError("the coordinator moved")]

        async def find(group_id: str, *args: Any, **kwargs: Any) -> int:
            finds.append(group_id)
            coordinator: int = await real_find(group_id, *args, **kwargs)
            return coordinator

        async def fetch(*args: Any, **kwargs: Any) -> Any:
            if barrier.rounds >= 5 and failures:
                raise failures.pop()
            return await real_fetch(*args, **kwargs)

        barrier._admin.find_coordinator = find
        barrier._admin.list_consumer_group_offsets = fetch
        barrier._coordinator = None
        for _ in range(3):
            await barrier.wait()
        assert finds == [group]  # old code: a lookup every round
        await barrier.wait()  # the fourth round: NotCoordinator, looked up again, asked again
        assert failures == []
        assert finds == [group, group]
    finally:
        await barrier.stop()


@pytest.mark.integration
async def test_a_coordinator_that_moved_and_answers_no_offsets_is_found_again(
    producer: EventProducer, topics: str
) -> None:
    """A broker that is no longer the group's coordinator answers OffsetFetch with its
    error at the top and -1 for every partition, which aiokafka returns as offsets, no
    error. The barrier kept asking it and held every send for good (chaos1796598604)."""
    topic, group = f"{topics}{SIGNALS}", f"{topics}sms-signals"
    barrier = KafkaSignalsApplied(KAFKA, topic, group, bound_s=10.0, poll_s=0.01, min_gap_s=0)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest",
    )  # fmt: skip
    try:
        await (await producer.send(wrap(dispute(), "ledger")))
        await consumer.start()
        while not sum(len(r) for r in (await consumer.getmany(timeout_ms=200)).values()):
            pass
        await consumer.commit()
        barrier.bound_s = 120.0  # the group's first commit may take a moment to be seen
        await barrier.wait()
        barrier.bound_s = 10.0
        stale = 999  # the broker that was the coordinator
        real_fetch = barrier._admin.list_consumer_group_offsets

        async def fetch(group_id: str, coordinator: int | None, partitions: Any) -> Any:
            if coordinator == stale:
                return {tp: OffsetAndMetadata(-1, "") for tp in partitions}
            return await real_fetch(group_id, coordinator, partitions)

        barrier._admin.list_consumer_group_offsets = fetch
        barrier._coordinator = stale
        started = time.monotonic()
        await barrier.wait()  # old code: TransientError after the bound, every round
        assert time.monotonic() - started < 5.0
        assert barrier._coordinator != stale
    finally:
        await consumer.stop()
        await barrier.stop()
