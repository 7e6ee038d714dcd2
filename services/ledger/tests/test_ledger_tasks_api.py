"""The agent task queue against the real PostgreSQL and Kafka: a call_me reply on
consumer.signals.v1 opens one task (redelivered: still one), two agents claim at once
(one 200, one 409 naming the holder), a lease lapses, only the claimer or an admin
finishes, roles and bad input; every change on the account timeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from dunning_core.contracts.common import Channel
from dunning_core.contracts.envelope import wrap
from dunning_core.contracts.events import ConsumerSignaled, SignalKind
from dunning_core.runtime.clock import FixedClock
from dunning_ledger.bootstrap import Ledger
from dunning_testkit.gate import eventually
from dunning_testkit.ledger import (
    import_row,
    importing_client,
    publish,
    scalar,
    settings_for,
    started_ledger,
)
from dunning_testkit.paths import auth_headers

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 22:00 in New York: after hours
ACCOUNT = "ACC-000001"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def ledger(topics: str, database: str, clock: FixedClock) -> AsyncIterator[Ledger]:
    async with started_ledger(settings_for(topics, database, task_lease_s=600), clock) as built:
        yield built


@pytest.fixture
async def http(ledger: Ledger) -> AsyncIterator[httpx.AsyncClient]:
    async with importing_client(ledger.app, [import_row(1)]) as client:
        yield client


def reply(text: str, intent: str, sid: str = "SM-call-1") -> ConsumerSignaled:
    return ConsumerSignaled(
        account_id=ACCOUNT, signal_id=sid, kind=SignalKind.REPLIED, channel=Channel.SMS,
        address="+12125550001", text=text, source="sms", occurred_at=T0,
        details={"intent": intent},
    )  # fmt: skip


async def key(http: httpx.AsyncClient, name: str, role: str) -> dict[str, str]:
    response = await http.post("/v1/keys", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return auth_headers(response.json()["key"])


async def one_task(http: httpx.AsyncClient, **filters: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def listed() -> bool:
        found[:] = (await http.get("/v1/tasks", params=filters)).json()["tasks"]
        return bool(found)

    await eventually(listed)
    assert len(found) == 1, found
    return found[0]


async def task_actions(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(action, by) of the task entries on the account's timeline, in order."""
    timeline = (await http.get(f"/v1/accounts/{ACCOUNT}/timeline")).json()
    return [(e["details"]["action"], e["by"]) for e in timeline["entries"] if e["kind"] == "task"]


async def test_a_redelivered_call_me_reply_opens_one_task_in_the_allowed_hours(
    http: httpx.AsyncClient, ledger: Ledger, topics: str, database: str
) -> None:
    envelope = wrap(reply("please call me tomorrow", "call_me"), "sms")
    await publish([envelope, envelope], topics)  # the same event twice, as on redelivery
    task = await one_task(http, account_id=ACCOUNT)
    assert (task["kind"], task["reason"], task["status"]) == ("call_back", "call_me", "open")
    assert task["source_event_id"] == envelope.id
    assert task["message_text"] == "please call me tomorrow"
    # 22:00 in New York: the consumer's hours open at 08:00 there (13:00 UTC), due 4 h on.
    assert task["zones"] == ["America/New_York"]
    assert task["window_start"] == "2026-03-03T13:00:00Z"
    assert task["due_at"] == "2026-03-03T17:00:00Z"
    assert task["window_end"] == "2026-03-04T02:00:00Z"
    # Applied again, as a consumer group that lost its marks would: still one task.
    await ledger.use_cases.communications.record_events("another-group", [envelope])
    assert await scalar(database, "SELECT count(*) FROM ledger.agent_tasks") == 1
    assert await task_actions(http) == [("created", "ledger")]


async def test_two_agents_claim_at_once_one_wins_the_other_hears_who(
    http: httpx.AsyncClient, ledger: Ledger, clock: FixedClock
) -> None:
    await ledger.use_cases.communications.record_events(
        "g", [wrap(reply("what is this about", "unknown", "SM-2"), "sms")]
    )
    task = await one_task(http, kind="review_reply")
    ann, bob = await key(http, "agent-ann", "agent"), await key(http, "agent-bob", "agent")
    path = f"/v1/tasks/{task['task_id']}"
    first, second = await asyncio.gather(
        http.post(f"{path}/claim", headers=ann), http.post(f"{path}/claim", headers=bob)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    won, lost = (first, second) if first.status_code == 200 else (second, first)
    winner = won.json()["claimed_by"]
    assert winner in ("agent-ann", "agent-bob")
    body = lost.json()
    assert (body["error"], body["claimed_by"], body["status"]) == (
        "task_conflict",
        winner,
        "claimed",
    )
    assert winner in body["message"]
    loser = bob if winner == "agent-ann" else ann
    # Only the claimer (or an admin) completes it; an outcome note is required.
    refused = await http.post(f"{path}/complete", json={"outcome": "x"}, headers=loser)
    assert refused.status_code == 409, refused.text
    winner_key = ann if winner == "agent-ann" else bob
    empty = await http.post(f"{path}/complete", json={"outcome": ""}, headers=winner_key)
    assert empty.status_code == 422
    assert [e["field"] for e in empty.json()["errors"]] == ["outcome"]
    done = await http.post(f"{path}/complete", json={"outcome": "explained"}, headers=winner_key)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completed_by"]) == ("done", winner)
    again = await http.post(f"{path}/complete", json={"outcome": "explained"}, headers=winner_key)
    assert again.json()["replayed"] is True
    assert (await http.post(f"{path}/claim", headers=loser)).status_code == 409
    timeline = (await http.get(f"/v1/accounts/{ACCOUNT}/timeline")).json()
    actions = [
        (e["details"]["action"], e["by"]) for e in timeline["entries"] if e["kind"] == "task"
    ]
    assert actions == [("created", "ledger"), ("claimed", winner), ("completed", winner)]


async def test_a_claim_lapses_after_its_lease_and_another_agent_takes_it(
    http: httpx.AsyncClient, ledger: Ledger, clock: FixedClock
) -> None:
    await ledger.use_cases.communications.record_events(
        "g", [wrap(reply("call me", "call_me", "SM-3"), "sms")]
    )
    task = await one_task(http)
    ann, bob = await key(http, "agent-ann", "agent"), await key(http, "agent-bob", "agent")
    path = f"/v1/tasks/{task['task_id']}"
    claimed = (await http.post(f"{path}/claim", headers=ann)).json()
    assert claimed["lease_until"] == "2026-03-03T03:10:00Z"
    assert len((await http.get("/v1/tasks", params={"status": "claimed"})).json()["tasks"]) == 1
    assert (await http.post(f"{path}/claim", headers=bob)).status_code == 409
    clock.advance(timedelta(minutes=10))  # the lease runs out
    listed = (await http.get("/v1/tasks", params={"status": "open"})).json()["tasks"]
    assert [(t["task_id"], t["claimed_by"]) for t in listed] == [(task["task_id"], None)]
    taken = await http.post(f"{path}/claim", headers=bob)
    assert taken.status_code == 200, taken.text
    assert taken.json()["claimed_by"] == "agent-bob"
    # Ann's late completion is refused; Bob releases; an admin may complete it anyway.
    assert (
        await http.post(f"{path}/complete", json={"outcome": "x"}, headers=ann)
    ).status_code == 409
    released = await http.post(f"{path}/release", headers=bob)
    assert (released.status_code, released.json()["status"]) == (200, "open")
    assert (await http.post(f"{path}/release", headers=bob)).status_code == 409
    done = await http.post(f"{path}/complete", json={"outcome": "called: will pay Friday"})
    assert (done.status_code, done.json()["completed_by"]) == (200, "bootstrap-admin")
    timeline = (await http.get(f"/v1/accounts/{ACCOUNT}/timeline")).json()
    actions = [
        (e["details"]["action"], e["by"]) for e in timeline["entries"] if e["kind"] == "task"
    ]
    assert actions == [
        ("created", "ledger"), ("claimed", "agent-ann"), ("lease_lapsed", "ledger"),
        ("claimed", "agent-bob"), ("released", "agent-bob"), ("completed", "bootstrap-admin"),
    ]  # fmt: skip


async def test_roles_and_bad_input(http: httpx.AsyncClient, ledger: Ledger) -> None:
    await ledger.use_cases.communications.record_events(
        "g", [wrap(reply("call me", "call_me", "SM-4"), "sms")]
    )
    task = await one_task(http)
    path = f"/v1/tasks/{task['task_id']}"
    reader, portal = await key(http, "viewer", "read_only"), await key(http, "page", "portal")
    operator = await key(http, "ops", "operator")
    async with httpx.AsyncClient(transport=http._transport, base_url="http://ledger") as anon:
        assert (await anon.get("/v1/tasks")).status_code == 401
        assert (await anon.post(f"{path}/claim")).status_code == 401
    assert (await http.get("/v1/tasks", headers=reader)).status_code == 200
    for who in (reader, portal):
        forbidden = await http.post(f"{path}/claim", headers=who)
        assert forbidden.status_code == 403, forbidden.text
        assert "tasks.work" in forbidden.json()["message"]
    assert (await http.post(f"{path}/claim", headers=operator)).status_code == 200
    for params, field in [
        ({"status": "pending"}, "query.status"),
        ({"kind": "lunch"}, "query.kind"),
        ({"due_before": "tomorrow"}, "query.due_before"),
        ({"due_before": "2026-03-04T00:00:00"}, "query.due_before"),
        ({"limit": "0"}, "query.limit"),
    ]:
        bad = await http.get("/v1/tasks", params=params)
        assert bad.status_code == 422, (params, bad.text)
        assert [e["field"] for e in bad.json()["errors"]] == [field]
    assert (await http.get("/v1/tasks", params={"cursor": "nope"})).status_code == 400
    assert (await http.post("/v1/tasks/tsk_none/claim")).status_code == 404
    extra = await http.post(f"{path}/complete", json={"outcome": "x", "by": "me"}, headers=operator)
    assert extra.status_code == 422
    assert [e["field"] for e in extra.json()["errors"]] == ["by"]


async def test_the_list_pages_by_due_instant_with_filters(
    http: httpx.AsyncClient, ledger: Ledger
) -> None:
    replies = [wrap(reply(f"text {n}", "unknown", f"SM-p{n}"), "sms") for n in range(5)]
    await ledger.use_cases.communications.record_events("g", replies)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/v1/tasks", params=params)).json()
        seen += [t["task_id"] for t in page["tasks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen)  # one due instant: then by id
    before = {"due_before": "2026-03-03T17:00:00Z"}
    assert (await http.get("/v1/tasks", params=before)).json()["tasks"] == []
    assert (await http.get("/v1/tasks", params={"kind": "call_back"})).json()["tasks"] == []
    other = {"account_id": "ACC-999"}
    assert (await http.get("/v1/tasks", params=other)).json()["tasks"] == []
