"""The scheduler against the real local stack: Kafka topics of its own, a fresh database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dunning_core.contracts.envelope import Envelope, decode, wrap
from dunning_core.contracts.events import Decision, DeliveryStatus, Event, SignalKind, StepPlanned
from dunning_core.contracts.topics import PLANNED
from dunning_core.runtime.clock import FixedClock
from dunning_core.runtime.kafka import EventProducer
from dunning_scheduler.adapters.database import VERSION_TABLE, make_engine, migrate
from dunning_scheduler.adapters.models import HELD, metadata
from dunning_scheduler.bootstrap import build
from dunning_scheduler.config import SchedulerSettings
from dunning_testkit.money_events import installment_missed, plan_agreed, plan_broken
from dunning_testkit.paths import auth_headers
from dunning_testkit.scheduler import NOW, account_opened, decided, delivery, payment, signal
from dunning_testkit.stack import KAFKA
from sqlalchemy import text
from sqlalchemy.engine import Connection

pytestmark = pytest.mark.integration


@dataclass
class Running:
    prefix: str
    clock: FixedClock
    client: httpx.AsyncClient
    producer: EventProducer
    reader: AIOKafkaConsumer

    async def publish(self, *events: Event) -> None:
        await self.producer.publish(wrap(e, "test", time=NOW) for e in events)

    async def planned(self, count: int, wait_s: float = 20.0) -> list[Envelope]:
        """Read until ``count`` step.planned.v1 records arrived (or time is up)."""
        found: list[Envelope] = []
        deadline = time.monotonic() + wait_s
        while len(found) < count and time.monotonic() < deadline:
            batches = await self.reader.getmany(timeout_ms=200)
            for records in batches.values():
                found.extend(decode(r.key, r.value, r.headers) for r in records)
        return found

    async def case(self, account_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/cases/{account_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def step(self, account_id: str, step_id: str) -> dict[str, Any]:
        case = await self.case(account_id)
        found: dict[str, Any] = next(s for s in case["steps"] if s["step_id"] == step_id)
        return found


def sms_of(planned: list[Envelope]) -> StepPlanned:
    sms = next(e.data for e in planned if e.data.step.channel.value == "sms")  # type: ignore[attr-defined]
    assert isinstance(sms, StepPlanned)
    return sms


def the_same_step_again(replanned: list[Envelope], original: StepPlanned) -> StepPlanned:
    """The one re-planned step: the same id, attempt and vetted content as the original."""
    assert len(replanned) == 1
    again = replanned[0].data
    assert isinstance(again, StepPlanned)
    assert again.step.step_id == original.step.step_id
    assert again.step.attempt == original.step.attempt
    assert again.step.content_hash == original.step.content_hash
    return again


@pytest.fixture
async def running(
    topics: str, fresh_database: Callable[[str], Awaitable[str]]
) -> AsyncIterator[Running]:
    clock = FixedClock(NOW)
    settings = SchedulerSettings(
        topic_prefix=topics,
        database_url=await fresh_database("scheduler"),
        kafka_bootstrap=KAFKA,
        planner_interval_s=0.05,
    )
    app = build(settings, clock=clock)
    runtime = app.state.runtime
    await runtime.start()
    producer = EventProducer(KAFKA, "scheduler-test", topic_prefix=topics)
    await producer.start()
    reader = AIOKafkaConsumer(
        topics + PLANNED, bootstrap_servers=KAFKA, auto_offset_reset="earliest", group_id=None
    )
    await reader.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://scheduler", headers=auth_headers()
    ) as client:
        yield Running(topics, clock, client, producer, reader)
    await reader.stop()
    await producer.stop()
    await runtime.stop()


async def test_account_opened_leads_to_planned_steps_on_the_planned_topic(
    running: Running,
) -> None:
    await running.publish(account_opened("ACC-I1"))
    planned = await running.planned(2)
    assert len(planned) == 2
    steps = [e.data for e in planned]
    assert all(isinstance(s, StepPlanned) for s in steps)
    assert {s.step.channel.value for s in steps} == {"sms", "email"}  # type: ignore[attr-defined]
    assert all(e.traceparent and e.traceparent.startswith("00-") for e in planned)
    assert all(e.subject == "ACC-I1" for e in planned)
    # The plans are published and the case saved together (neither waits for the other):
    # the topic may show them a moment before the case does.
    case = await running.case("ACC-I1")
    for _ in range(50):
        if case["steps_planned"] == 2:
            break
        await asyncio.sleep(0.1)
        case = await running.case("ACC-I1")
    assert case["status"] == "active"
    assert case["steps_planned"] == 2
    assert case["next_stage"] == "friendly_reminder"  # its second attempt, the follow-up
    assert {s["status"] for s in case["steps"]} == {"planned"}
    health = await running.client.get("/health")
    assert health.status_code == 200, health.text
    stats = (await running.client.get("/v1/stats")).json()
    assert stats["cases_by_status"] == {"active": 1}
    assert stats["planner"]["steps_published"] == 2
    ladder = stats["policy"]["stages"]  # the active ladder, for the operations dashboard
    assert ladder[0]["stage"] == "friendly_reminder"
    assert {"key", "channels", "offset_days", "max_attempts"} <= set(ladder[0])


async def test_a_deferral_is_replanned_with_the_same_step_id_and_the_new_send_at(
    running: Running,
) -> None:
    await running.publish(account_opened("ACC-I2"))
    first = await running.planned(2)
    sms = sms_of(first)
    later = NOW + timedelta(hours=15)
    await running.publish(decided(sms, Decision.DEFER, not_before=later, rules=["hours.fdcpa"]))
    assert await running.planned(1, wait_s=2.0) == []  # held until not_before
    running.clock.advance(timedelta(hours=15))
    replanned = await running.planned(1)
    again = the_same_step_again(replanned, sms)
    assert again.step.send_at == later
    assert replanned[0].id != first[0].id
    step = await running.step("ACC-I2", sms.step.step_id)
    assert (step["status"], step["replans"], step["rule_ids"]) == ("planned", 1, ["hours.fdcpa"])


async def test_an_expired_approval_is_replanned_with_the_same_step_id(running: Running) -> None:
    await running.publish(account_opened("ACC-I7"))
    first = await running.planned(2)
    sms = sms_of(first)
    await running.publish(decided(sms, Decision.ALLOW))
    running.clock.advance(timedelta(minutes=20))
    expired_at = running.clock.now()
    await running.publish(
        delivery(sms, DeliveryStatus.EXPIRED, error_code="send_by_passed", at=expired_at)
    )
    again = the_same_step_again(await running.planned(1), sms)
    assert again.step.send_at == expired_at
    step = await running.step("ACC-I7", sms.step.step_id)
    assert (step["status"], step["replans"]) == ("planned", 1)
    assert (await running.case("ACC-I7"))["status"] == "active"


async def test_the_same_account_opened_twice_gives_one_case_and_one_plan(
    running: Running,
) -> None:
    opened = account_opened("ACC-I3")
    await running.publish(opened)
    await running.planned(2)
    await running.publish(opened)  # redelivered / re-sent: same revision
    running.clock.advance(timedelta(minutes=1))
    extra = await running.planned(1, wait_s=3.0)
    assert extra == []
    case = await running.case("ACC-I3")
    assert case["steps_planned"] == 2
    assert case["revision"] == 1
    stats = (await running.client.get("/v1/stats")).json()
    assert sum(stats["cases_by_status"].values()) == 1


async def test_a_dispute_pauses_and_the_ladder_does_not_advance(running: Running) -> None:
    await running.publish(account_opened("ACC-I4"))
    await running.planned(2)
    await running.publish(signal(SignalKind.DISPUTED, "ACC-I4"))
    for _ in range(50):
        if (await running.case("ACC-I4"))["status"] == "paused":
            break
        await asyncio.sleep(0.1)
    case = await running.case("ACC-I4")
    assert (case["status"], case["paused_reason"]) == ("paused", "disputed")
    running.clock.advance(timedelta(days=30))  # well past the follow-up's due time
    assert await running.planned(1, wait_s=2.0) == []


async def test_payments_events_lead_to_money_messages_on_the_planned_topic(
    running: Running,
) -> None:
    """A plan agreed, its first installment paid (thanked once, however often the payment
    comes), the second installment's reminder three days before it: no ladder step between."""
    await running.publish(account_opened("ACC-M1"))
    await running.planned(2)
    paid = payment(82_304, "ACC-M1", plan_id="PLAN-1", installments=[1])
    await running.publish(plan_agreed("ACC-M1"), paid)
    (thanks,) = [e.data for e in await running.planned(1)]
    assert isinstance(thanks, StepPlanned)
    assert thanks.step.content.body.startswith("Acme Recovery Services: Thank you, Ana.")
    await running.publish(paid)  # redelivered
    running.clock.advance(datetime(2026, 3, 13, 14, tzinfo=UTC) - NOW)  # paid: no reminder
    assert await running.planned(1, wait_s=3.0) == []
    case = await running.case("ACC-M1")
    assert (case["status"], case["paused_reason"], case["plan_id"]) == ("paused", "plan", "PLAN-1")
    held = [s for s in case["steps"] if s["stage_key"] == "installment_reminder"]
    assert sorted(s["status"] for s in held) == ["dropped", "scheduled", "scheduled"]
    running.clock.advance(timedelta(days=31))  # 2026-04-13 14:00 UTC, 10:00 in New York
    (reminder,) = [e.data for e in await running.planned(1)]
    assert isinstance(reminder, StepPlanned)
    assert "$411.52" in reminder.step.content.body
    assert "April 16, 2026" in reminder.step.content.body
    assert await running.planned(1, wait_s=2.0) == []


async def test_a_plan_missed_then_broken_resumes_escalation_at_the_named_stage(
    running: Running,
) -> None:
    """Reminder before the installment, follow-up when it is missed, then the ladder again
    at the policy's resume stage (urgency) when the plan breaks."""
    await running.publish(account_opened("ACC-M2"))
    await running.planned(2)
    await running.publish(plan_agreed("ACC-M2"))
    assert await running.planned(1, wait_s=2.0) == []  # the reminders wait for their time
    running.clock.advance(datetime(2026, 3, 13, 14, tzinfo=UTC) - NOW)
    (reminder,) = [e.data for e in await running.planned(1)]
    assert isinstance(reminder, StepPlanned)
    assert "March 16, 2026" in reminder.step.content.body
    running.clock.advance(timedelta(days=6, hours=3))  # 2026-03-19 17:00 UTC
    await running.publish(installment_missed(1, "ACC-M2", at=running.clock.now()))
    (follow_up,) = [e.data for e in await running.planned(1)]
    assert isinstance(follow_up, StepPlanned)
    assert "back on track" in follow_up.step.content.body
    await running.publish(plan_broken("ACC-M2", at=running.clock.now()))
    resumed = [e.data for e in await running.planned(2)]
    assert {s.step.stage.value for s in resumed} == {"urgency"}  # type: ignore[attr-defined]
    for _ in range(50):  # published before the planner's commit (service.py): wait for it
        case = await running.case("ACC-M2")
        if case["next_stage"] == "formal_notice":
            break
        await asyncio.sleep(0.1)
    assert (case["status"], case["plan_id"], case["next_stage"]) == (
        "active",
        None,
        "formal_notice",
    )


# --- schema ---------------------------------------------------------------------------


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, type_, _: (
                type_ != "table" or name.startswith("scheduler_")
            ),
            "include_object": lambda _o, name, type_, *_: name != VERSION_TABLE,
        },
    )
    return list(compare_metadata(context, metadata))


async def test_migrations_create_exactly_the_models(
    fresh_database: Callable[[str], Awaitable[str]],
) -> None:
    engine = make_engine(await fresh_database("scheduler_schema"), 2)
    try:
        await migrate(engine)
        await migrate(engine)  # a second replica finds the schema at head
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_diff) == []
            version = await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            assert version.scalars().all() == ["0003"]
    finally:
        await engine.dispose()


async def test_the_planner_finds_held_steps_by_their_index(
    fresh_database: Callable[[str], Awaitable[str]],
) -> None:
    """Scheduled money messages may wait months: releasing them must not scan every step."""
    from dunning_scheduler.adapters.repository import SqlTransaction
    from dunning_scheduler.domain.case import StepStatus

    assert {StepStatus.DEFERRED.value, StepStatus.SCHEDULED.value} <= set(str(HELD).split("'"))
    engine = make_engine(await fresh_database("scheduler_held"), 2)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = await connection.execute(
                text(
                    f"EXPLAIN SELECT * FROM scheduler_steps WHERE {HELD} AND send_at <= now()"
                    " ORDER BY send_at LIMIT 500"
                )
            )
            assert "ix_scheduler_steps_held" in "\n".join(str(r[0]) for r in plan)
            assert await SqlTransaction(connection, ("a",), NOW).lock_deferred_due(NOW, 5) == []
    finally:
        await engine.dispose()


async def test_tables_an_earlier_scheduler_created_are_adopted(
    fresh_database: Callable[[str], Awaitable[str]],
) -> None:
    engine = make_engine(await fresh_database("scheduler_adopt"), 2)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(
                text(
                    "INSERT INTO scheduler_steps (step_id, account_id, debt_id, stage_key, stage,"
                    " channel, attempt, destination, content, content_hash, send_at,"
                    " first_communication, planned_at, status, rule_ids, replans, updated_at)"
                    " VALUES ('stp_1', 'A', 'D', 'k', 's', 'sms', 1, '+1', '{}', 'h', now(),"
                    " true, now(), 'planned', '{}', 0, now())"
                )
            )
        await migrate(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_diff) == []
            kept = await connection.execute(text("SELECT count(*) FROM scheduler_steps"))
            assert kept.scalar_one() == 1
    finally:
        await engine.dispose()
