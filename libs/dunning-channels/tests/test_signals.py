"""An opt-out, a dispute or a cease suppresses every later send, however it came.

The last chaos run sent four texts after the consumer's acknowledged STOP: the STOPs came
before a Redis FLUSHALL, the worker sent after it. Suppressions are now journalled and put
back before any send is decided (``test_retry_journal``); the worker also takes
``consumer.signals.v1`` (STOPALL from another channel, a dispute or cease recorded by the
ledger) into its suppressions, and looks again right before the provider call.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from dunning_channels.adapters.journaled_records import JournaledSendRecords
from dunning_channels.adapters.kafka_journal import (
    JournaledRetryQueue,
    KafkaSendJournal,
)
from dunning_channels.adapters.redis_records import RedisSendRecords
from dunning_channels.adapters.redis_retries import RedisRetryQueue
from dunning_channels.domain import Accepted
from dunning_channels.ports import Parked
from dunning_channels.service import SuppressOnSignals
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, DeliveryStatus, SignalKind
from dunning_core.runtime.kafka import EventProducer
from dunning_testkit.channels import NOW, PHONE, FakeSender, MemoryJournal, approval, rig, step_of
from dunning_testkit.stack import KAFKA
from redis.asyncio import Redis


def signal(
    kind: SignalKind,
    account_id: str = "acc-1",
    *,
    channel: Channel | None = None,
    address: str | None = None,
    n: int = 1,
) -> ConsumerSignaled:
    return ConsumerSignaled(
        account_id=account_id,
        signal_id=f"sig-{n}",
        kind=kind,
        channel=channel,
        address=address,
        source="operator" if channel is None else channel.value,
        occurred_at=NOW + timedelta(seconds=n),
    )


@pytest.mark.parametrize(
    "said",
    [
        signal(SignalKind.DISPUTED),  # through the ledger's API
        signal(SignalKind.CEASE_REQUESTED),
        signal(SignalKind.OPTED_OUT, channel=Channel.SMS),  # STOPALL, said by email
        signal(SignalKind.OPTED_OUT, channel=Channel.SMS, address=PHONE),
        signal(SignalKind.OUTREACH_PAUSED),  # an operator's pause, through the ledger
    ],
    ids=["dispute", "cease", "stopall", "stop", "pause"],
)
async def test_a_signal_on_the_topic_suppresses_what_the_worker_was_already_given(
    said: ConsumerSignaled,
) -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)
    signals = SuppressOnSignals(Channel.SMS, parts.records)
    await signals.handle(wrap(said, "ledger"))
    await parts.service.handle(approval("acc-1"))
    await parts.service.flush()
    assert sender.calls == []  # old code: sent (the worker never read the signals)
    assert parts.publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]


async def test_signals_of_other_accounts_and_channels_hold_nothing_here() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)
    signals = SuppressOnSignals(Channel.SMS, parts.records)
    await signals.handle(wrap(signal(SignalKind.DISPUTED, "acc-2"), "ledger"))
    await signals.handle(wrap(signal(SignalKind.OPTED_OUT, channel=Channel.EMAIL, n=2), "email"))
    await parts.service.handle(approval("acc-1"))
    await parts.service.flush()
    assert parts.publisher.deliveries() == [(DeliveryStatus.ACCEPTED, None)]


async def test_a_lift_undoes_only_what_it_lifts() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)
    signals = SuppressOnSignals(Channel.SMS, parts.records)
    for n, said in enumerate(
        [
            signal(SignalKind.OPTED_OUT, channel=Channel.SMS, address=PHONE),
            signal(SignalKind.DISPUTED),
            signal(SignalKind.OPTED_IN, channel=Channel.SMS, address=PHONE),  # START
        ]
    ):
        await signals.handle(wrap(said.model_copy(update={"signal_id": f"s{n}"}), "sms"))
    await parts.service.handle(approval("acc-1"))
    await parts.service.flush()
    assert parts.publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]  # disputed
    await signals.handle(wrap(signal(SignalKind.DISPUTE_VERIFIED, n=9), "ledger"))
    await parts.service.handle(approval("acc-1", attempt=2))
    await parts.service.flush()
    assert parts.publisher.deliveries()[-1] == (DeliveryStatus.ACCEPTED, None)


async def test_a_stop_that_lands_just_before_the_call_is_honoured() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)

    class Journal(MemoryJournal):  # the STOP arrives while the intent is being written
        async def intend(self, item: Parked, reconcile_at: float) -> None:
            await parts.records.suppress(item.approval.step.destination)

    parts.service.journal = journal = Journal()
    envelope = approval("acc-1")
    await parts.service.handle(envelope)
    await parts.service.flush()
    assert sender.calls == []  # old code: sent
    assert journal.withdrawn == [step_of(envelope)]
    assert parts.publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]


# --- a Redis that lost everything: put back before any send is decided -------------------


@pytest.mark.integration
async def test_a_stop_acked_before_a_flushall_holds_the_next_approval(
    prefix: str, parts: tuple[Redis, EventProducer]
) -> None:
    redis, producer = parts
    journal = KafkaSendJournal(KAFKA, producer, f"{prefix}sms.journal")
    redis_records = RedisSendRecords(redis, Channel.SMS, prefix=prefix)
    records = JournaledSendRecords(redis_records, journal)
    queue = JournaledRetryQueue(
        RedisRetryQueue(redis, Channel.SMS, prefix=prefix),
        journal,
        redis_records,
        redis,
        mark_key=f"{prefix}sms:retry:mark",
    )
    await queue.start()
    await records.suppress(PHONE)  # the ingress's STOP, acknowledged
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    await redis.delete(*keys)  # FLUSHALL (of this worker's keys)
    sender = FakeSender(Accepted("SM1"))
    worker = rig(sender)
    worker.service.records, worker.service.journal = records, queue
    await worker.service.handle(approval("acc-1"))  # before any retry pass restored
    await worker.service.flush()
    assert sender.calls == []
    assert worker.publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]


async def test_a_resume_lifts_the_operators_pause() -> None:
    sender = FakeSender(Accepted("SM1"))
    parts = rig(sender)
    signals = SuppressOnSignals(Channel.SMS, parts.records)
    await signals.handle(wrap(signal(SignalKind.OUTREACH_PAUSED), "ledger"))
    await parts.service.handle(approval("acc-1"))
    await parts.service.flush()
    assert parts.publisher.deliveries() == [(DeliveryStatus.REFUSED, "suppressed")]
    await signals.handle(wrap(signal(SignalKind.OUTREACH_RESUMED, n=2), "ledger"))
    await parts.service.handle(approval("acc-1", attempt=2))
    await parts.service.flush()
    assert parts.publisher.deliveries()[-1] == (DeliveryStatus.ACCEPTED, None)
