"""An operator's signal is answered once it is on Kafka.

The channel workers hold every send until the consumer signals on Kafka are applied (their
signals barrier); a dispute the ledger had committed but not yet relayed slipped past it in
a chaos run (an e-mail accepted 0.3 s after the dispute's 201, the relay's NOTIFY lost to a
PostgreSQL restart). Here the relay hears no NOTIFY and polls once a minute, so only the
signal's own wake can publish it before the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer
from dunning_core.contracts.events import ConsumerSignaled
from dunning_ledger.bootstrap import Ledger, build_ledger
from dunning_testkit.ledger import import_row as row
from dunning_testkit.ledger import ledger_client, read_topic, scalar, settings_for, started_ledger
from dunning_testkit.stack import KAFKA

pytestmark = pytest.mark.integration

PENDING = "SELECT count(*) FROM ledger.outbox WHERE published_at IS NULL"
DISPUTE = {"signal_id": "d-1", "kind": "disputed", "text": "not mine"}


@pytest.fixture
async def slow_relay(topics: str, database: str) -> AsyncIterator[Ledger]:
    built = build_ledger(settings_for(topics, database, consume=False, outbox_poll_ms=60_000))
    built.relay.listen_dsn = None  # deaf to NOTIFY: it publishes when polled or woken
    await built.runtime.start()
    try:
        yield built
    finally:
        await built.runtime.stop()


async def test_a_dispute_is_on_kafka_when_it_is_answered(
    slow_relay: Ledger, database: str, topics: str
) -> None:
    async with ledger_client(slow_relay.app) as http:
        assert (await http.post("/v1/accounts/import", json={"accounts": [row(1)]})).is_success
        assert await scalar(database, PENDING) > 0  # the relay sleeps: the import waits
        answer = await http.post("/v1/accounts/ACC-000001/signals", json=DISPUTE)
        assert answer.status_code == 201
        assert await scalar(database, PENDING) == 0
        again = await http.post("/v1/accounts/ACC-000001/signals", json=DISPUTE)
        assert again.status_code == 200
    events = await read_topic(topics + "consumer.signals.v1", at_least=1, idle_s=0.5)
    [event] = events
    assert isinstance(event.data, ConsumerSignaled)
    assert event.data.kind.value == "disputed"


async def test_without_a_relay_the_signal_is_still_recorded_after_the_bound(
    topics: str, database: str
) -> None:
    quiet = settings_for(topics, database, consume=False, relay=False, signal_publish_wait_s=0.3)
    async with started_ledger(quiet) as ledger, ledger_client(ledger.app) as http:
        await http.post("/v1/accounts/import", json={"accounts": [row(2)]})
        answer = await http.post("/v1/accounts/ACC-000002/signals", json=DISPUTE)
        assert answer.status_code == 201
        listed = await http.get("/v1/accounts/ACC-000002/timeline")
        assert "signal" in [e["kind"] for e in listed.json()["entries"]]
    assert await scalar(database, PENDING) > 0  # queued: another replica's relay sends it


# --- applied by the channel workers ------------------------------------------------------


@asynccontextmanager
async def signals_reader(topics: str, group: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A member of a channel worker's signals group: it reads, and commits when told."""
    consumer = AIOKafkaConsumer(
        topics + "consumer.signals.v1", bootstrap_servers=KAFKA, group_id=group,
        enable_auto_commit=False, auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    try:
        while not consumer.assignment():  # joined, the partitions assigned
            await consumer.getmany(timeout_ms=200)
        yield consumer
    finally:
        await consumer.stop()


async def test_a_signal_is_answered_once_the_workers_reading_it_applied_it(
    topics: str, database: str
) -> None:
    """A worker applies a signal (commits) only after the calls it came too late for ended
    (its ``Fence``). The ledger answered on publication, so an operator told "recorded"
    could still see a text that was on its way arrive after it (chaos1796595733)."""
    group = f"{topics}sms-signals"
    settings = settings_for(
        topics, database, consume=False, signal_applied_groups=group, signal_applied_wait_s=20
    )
    async with (
        signals_reader(topics, group) as worker,
        started_ledger(settings) as ledger,
        ledger_client(ledger.app) as http,
    ):
        await http.post("/v1/accounts/import", json={"accounts": [row(3)]})
        asked = asyncio.create_task(http.post("/v1/accounts/ACC-000003/signals", json=DISPUTE))
        read: list[object] = []
        while not read:
            read = [r for rs in (await worker.getmany(timeout_ms=200)).values() for r in rs]
        await asyncio.sleep(0.5)
        assert not asked.done()  # old code: answered as soon as the signal was on Kafka
        await worker.commit()
        answer = await asyncio.wait_for(asked, 10)
    assert answer.status_code == 201
    assert answer.json()["applied"] is True


async def test_a_worker_that_never_applies_it_delays_the_answer_only_to_the_bound(
    topics: str, database: str
) -> None:
    group = f"{topics}sms-signals"
    settings = settings_for(
        topics, database, consume=False, signal_applied_groups=group, signal_applied_wait_s=1
    )
    async with (
        signals_reader(topics, group),
        started_ledger(settings) as ledger,
        ledger_client(ledger.app) as http,
    ):
        await http.post("/v1/accounts/import", json={"accounts": [row(4)]})
        answer = await http.post("/v1/accounts/ACC-000004/signals", json=DISPUTE)
    assert answer.status_code == 201
    assert answer.json()["applied"] is False  # recorded all the same


async def test_groups_no_worker_is_reading_are_not_waited_for(topics: str, database: str) -> None:
    settings = settings_for(
        topics, database, consume=False, signal_applied_groups=f"{topics}email-signals",
        signal_applied_wait_s=20,
    )  # fmt: skip
    async with started_ledger(settings) as ledger, ledger_client(ledger.app) as http:
        await http.post("/v1/accounts/import", json={"accounts": [row(5)]})
        answer = await asyncio.wait_for(
            http.post("/v1/accounts/ACC-000005/signals", json=DISPUTE), 10
        )
    assert answer.json()["applied"] is True


async def test_two_workers_groups_are_both_read(topics: str, database: str) -> None:
    """The default names both channels' groups. Described in one request, aiokafka could not
    read the broker's answer and the connection closed: every answer waited the whole bound
    and said ``applied: false`` (the ops dashboard's pause timed out in the e2e suite)."""
    groups = [f"{topics}sms-signals", f"{topics}email-signals"]
    settings = settings_for(
        topics, database, consume=False, signal_applied_groups=",".join(groups),
        signal_applied_wait_s=20,
    )  # fmt: skip
    async with (
        signals_reader(topics, groups[0]) as sms,
        signals_reader(topics, groups[1]) as email,
        started_ledger(settings) as ledger,
        ledger_client(ledger.app) as http,
    ):
        await http.post("/v1/accounts/import", json={"accounts": [row(6)]})
        asked = asyncio.create_task(http.post("/v1/accounts/ACC-000006/signals", json=DISPUTE))
        for worker in (sms, email):
            while not sum(len(r) for r in (await worker.getmany(timeout_ms=200)).values()):
                pass
            await worker.commit()
        answer = await asyncio.wait_for(asked, 10)  # old code: the whole bound, then false
    assert answer.json()["applied"] is True
