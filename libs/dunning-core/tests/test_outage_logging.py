"""A dependency away does not storm the logs: one ERROR when the outage starts, a reminder
every interval, one INFO when it ends; the outage on the loop's health meanwhile."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from dunning_core.runtime.errors import Outage, RepeatFilter, is_transient
from dunning_core.runtime.kafka import Backoff, Batches, ConsumerLifecycle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _levels(caplog: pytest.LogCaptureFixture, name: str) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == name]


def test_an_outage_logs_its_start_reminders_and_end(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    log = logging.getLogger("test.outage")
    outage = Outage("kafka", log, remind_every=30, clock=clock, wall=lambda: 0.0)
    caplog.set_level(logging.DEBUG, "test.outage")
    for _ in range(700):  # ~10 failures a second for 70 s
        outage.failed(ConnectionError("broker away"))
        clock.now += 0.1
    report = outage.report()
    assert report == {
        "component": "kafka",
        "since": "1970-01-01T00:00:00Z",
        "failures": 700,
        "error": "ConnectionError: broker away",
    }
    outage.recovered()
    outage.recovered()
    lines = _levels(caplog, "test.outage")
    assert lines == [
        (logging.ERROR, "outage started"),
        (logging.WARNING, "outage continues"),
        (logging.WARNING, "outage continues"),
        (logging.INFO, "outage ended"),
    ]
    assert outage.report() is None


def test_a_library_line_repeated_passes_once_per_interval() -> None:
    clock = FakeClock()
    repeat = RepeatFilter(30, clock=clock)

    def record(msg: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord("aiokafka", level, __file__, 1, msg, (1,), None)

    passed = []
    for _ in range(4700):  # a second of a restarting broker
        r = record("Unable connect to node with id %s")
        if repeat.filter(r):
            passed.append(r.getMessage())
        clock.now += 1 / 4700
    assert passed == ["Unable connect to node with id 1"]
    assert repeat.filter(record("Another failure %s"))
    assert repeat.filter(record("debug chatter %s", logging.DEBUG))
    clock.now += 30
    again = record("Unable connect to node with id %s")
    assert repeat.filter(again)
    assert again.getMessage() == "Unable connect to node with id 1 (4699 similar held back)"


def test_driver_errors_are_transient_through_their_chain_and_bugs_are_not() -> None:
    class Wrapper(Exception):
        pass

    wrapped = Wrapper("wrapped")
    wrapped.__cause__ = ConnectionResetError("reset")
    assert is_transient(wrapped)
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(KeyError("missing"))


class FailingConsumer:
    """Hands out one record forever; knows nothing else about Kafka."""

    def __init__(self) -> None:
        self.tp = TopicPartition("t", 0)
        self.seeks = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def getmany(self, timeout_ms: int, max_records: int) -> Batches:
        await asyncio.sleep(0)
        record: ConsumerRecord[Any, Any] = ConsumerRecord(
            "t", 0, 0, 0, 0, b"k", b"v", None, 1, 1, ()
        )
        return {self.tp: [record]}

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks += 1


class FlakyLoop(ConsumerLifecycle):
    """Fails ``failures`` batches with a broker error, then succeeds."""

    def __init__(self, failures: int) -> None:
        super().__init__(
            consumer=lambda: cast(Any, FailingConsumer()),
            group_id="g",
            producer=cast(Any, None),
            max_records=10,
            backoff=Backoff(initial=0.001, maximum=0.002),
        )
        self.failures = failures
        self.calls = 0

    async def process(self, batches: Batches) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("Kafka away")
        if self.calls > self.failures + 3:
            self.request_stop()


async def test_a_failing_loop_logs_one_error_and_one_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "dunning_core.runtime.kafka")
    loop = FlakyLoop(failures=300)
    await loop.start()
    task = asyncio.create_task(loop.run())
    for _ in range(200):
        if loop.calls >= 50:
            break
        await asyncio.sleep(0.005)
    health = loop.health()
    assert health["ok"] is False
    assert health["outage"]["component"] == "consumer:g"
    assert health["outage"]["since"].endswith("Z")
    await asyncio.wait_for(task, 30)
    lines = [
        (level, msg)
        for level, msg in _levels(caplog, "dunning_core.runtime.kafka")
        if level >= logging.INFO
    ]
    assert lines == [(logging.ERROR, "outage started"), (logging.INFO, "outage ended")]
    assert loop.stats.retries == 300
    assert loop.health()["outage"] is None
