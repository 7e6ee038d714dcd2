"""The sms worker against the provider sandbox on the real broker and Redis: numbers that
always answer 429 or 500 end failed and dead-lettered, and hold back no other number."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from dunning_core.contracts import DeliveryStatus, DeliveryUpdated, decode
from dunning_core.contracts.topics import APPROVED_SMS, DELIVERY, dlq
from dunning_core.runtime.kafka import EventProducer
from dunning_sms.bootstrap import build
from dunning_testkit.channels import approval
from dunning_testkit.servers import recording_server
from dunning_testkit.sms import sms_settings
from dunning_testkit.stack import KAFKA

pytestmark = pytest.mark.integration

BAD_429 = [f"+1415666{n:04d}" for n in range(100, 120)]
BAD_500 = [f"+1415666{n:04d}" for n in range(120, 140)]
GOOD = [f"+1415777{n:04d}" for n in range(100, 300)]


@pytest.fixture(scope="module")
def callbacks() -> Iterator[str]:
    with recording_server(status=204) as recorder:
        yield recorder.base_url


# The settings of the testkit's `sandbox` fixture (one sandbox for the module).
SANDBOX_SETTINGS = {"callback_delay_ms": 5}


async def read(topic: str, want: int, seconds: float) -> list[tuple[object, dict[str, bytes]]]:
    """Up to ``want`` records of ``topic`` (event, headers), read for at most ``seconds``."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[object, dict[str, bytes]]] = []
    deadline = time.monotonic() + seconds
    try:
        while len(found) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    found.append((decode(r.key, r.value, r.headers).data, dict(r.headers)))
    finally:
        await consumer.stop()
    return found


async def test_numbers_that_always_fail_end_failed_and_hold_back_no_other(
    topics: str, sandbox: str, callbacks: str
) -> None:
    async with httpx.AsyncClient(base_url=sandbox) as http:
        await http.post("/_sandbox/faults", json={"destinations": BAD_429, "status": 429})
        await http.post("/_sandbox/faults", json={"destinations": BAD_500, "status": 500})
    settings = sms_settings(
        topics,
        sandbox,
        callbacks,
        send_concurrency=8,
        retry_max_attempts=3,
        retry_initial_s=0.05,
        retry_max_delay_s=0.2,
        retry_poll_s=0.05,
        # 20 numbers answering 500 at the head of the topic may open the circuit for a while
        breaker_open_s=0.5,
    )
    app = build(settings)
    producer = EventProducer(KAFKA, "test", topic_prefix=topics)
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            # The failing numbers first: they must not take the send slots from the others.
            bad = [approval(f"bad-{n}", destination=d) for n, d in enumerate(BAD_429 + BAD_500)]
            good = [approval(f"good-{n}", destination=d) for n, d in enumerate(GOOD)]
            await producer.publish(bad + good)
            events = await read(topics + DELIVERY, want=len(bad) + len(good), seconds=60)
            letters = await read(dlq(topics + APPROVED_SMS), want=len(bad), seconds=10)
            health = app.state.runtime
            _, report = await health.health()
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        with contextlib.suppress(Exception):  # housekeeping: the worker's own journal topic
            await admin.delete_topics([f"{topics}sms.journal"])
        await admin.close()
    statuses: dict[str, list[DeliveryStatus]] = {}
    for event, _ in events:
        assert isinstance(event, DeliveryUpdated)
        statuses.setdefault(event.account_id, []).append(event.status)
    assert {a: s for a, s in statuses.items() if a.startswith("good")} == {
        f"good-{n}": [DeliveryStatus.ACCEPTED] for n in range(len(GOOD))
    }
    assert {a: s for a, s in statuses.items() if a.startswith("bad")} == {
        f"bad-{n}": [DeliveryStatus.FAILED] for n in range(len(BAD_429 + BAD_500))
    }
    failed = [e for e, _ in events if isinstance(e, DeliveryUpdated) and e.account_id == "bad-0"]
    assert failed[0].error_code == "retry_budget_spent"
    assert "rate_limited" in (failed[0].detail or "")
    assert len(letters) == 40
    assert all(b"retry budget" in headers["dlq_error"] for _, headers in letters)
    assert report["delivery"]["failed"] == 40
    assert report["delivery"]["retries_waiting"] == 0
    # Every send recorded: none left for the sweeper (what the chaos drain waits for).
    assert report["delivery"]["in_flight_waiting"] == 0
    assert report["provider"]["provider"] == "twilio"
    assert report["provider"]["state"] in ("closed", "half_open", "open")
    await asyncio.sleep(0)
