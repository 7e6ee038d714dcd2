"""The pipeline page from metric samples, health and dead-letter queues (fakes of the probes
and of Kafka): the view model, and that only an admin replays a dead letter."""

from __future__ import annotations

import httpx
import pytest
from dunning_core.contracts.access import Role
from dunning_ops.adapters.probes_http import parse
from dunning_ops.domain.pipeline import pipeline_view
from dunning_ops.ports import DeadLetter, DeadQueue, Health, Sample
from dunning_testkit.ops import KEYS, FakeDeadLetters, FakeProbes, OpsFakes

EXPOSITION = """# HELP dunning_steps_total Steps
# TYPE dunning_steps_total counter
dunning_steps_total{outcome="planned",rule=""} 12.0
dunning_steps_total{outcome="allow",rule=""} 9.0
dunning_steps_total{outcome="defer",rule="time.quiet_hours"} 3.0
# TYPE dunning_consumer_lag gauge
dunning_consumer_lag{group="gate",partition="0",topic="outreach.planned.v1"} 4.0
dunning_consumer_lag{group="gate",partition="1",topic="outreach.planned.v1"} 1.0
dunning_consumer_lag{group="ledger",partition="0",topic="delivery.v1"} 0.0
# TYPE dunning_handler_seconds histogram
dunning_handler_seconds_bucket{group="gate",le="+Inf"} 12.0
dunning_handler_seconds_count{group="gate"} 12.0
dunning_handler_seconds_sum{group="gate"} 0.3
# TYPE dunning_outbox_backlog gauge
dunning_outbox_backlog 7.0
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 3.0
"""

LETTER = DeadLetter(
    topic="delivery.v1.dlq", partition=0, offset=3, key="ACC-1", error="not an event",
    source="delivery.v1:2:41", group="ledger", headers={"ce_type": "x"}, value="{}",
)  # fmt: skip


def test_samples_are_summed_per_group_and_outcome() -> None:
    samples = parse("gate", EXPOSITION)
    assert {s.name for s in samples} >= {"dunning_steps_total", "dunning_consumer_lag"}
    assert not any(s.name.startswith("process_") for s in samples)
    view = pipeline_view(
        samples,
        [Health("gate", True, 200), Health("sms", False, None, "ConnectError")],
        [DeadQueue("delivery.v1.dlq", 2), DeadQueue("accounts.v1.dlq", 0)],
    )
    charts = {c.id: c.json() for c in view.charts}
    assert charts["steps"]["labels"][:4] == ["planned", "allow", "defer", "block"]
    assert charts["steps"]["series"][0]["data"][:4] == [12, 9, 3, 0]
    assert dict(zip(charts["lag"]["labels"], charts["lag"]["series"][0]["data"], strict=True)) == {
        "gate": 5, "ledger": 0,
    }  # fmt: skip
    assert charts["handled"]["labels"] == ["gate"]
    tiles = {t.id: t.value for t in view.tiles}
    assert tiles == {"services_up": "1 / 2", "outbox_backlog": "7", "lag_total": "5",
                     "dead_letters": "2", "retries": "0"}  # fmt: skip
    assert view.metrics_seen


def test_without_metrics_the_page_says_so() -> None:
    view = pipeline_view([], [], [])
    assert not view.metrics_seen
    assert {t.id: t.value for t in view.tiles}["outbox_backlog"] == "n/a"


@pytest.fixture
def fakes() -> OpsFakes:
    probes = FakeProbes(
        healths=[Health("ledger", True, 200)],
        found=[Sample("ledger", "dunning_outbox_backlog", {}, 2.0)],
    )
    return OpsFakes(
        dead_letters=FakeDeadLetters(parked={"delivery.v1.dlq": [LETTER]}), probes=probes
    )


def csrf_of(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


async def test_an_operator_sees_the_letter_but_may_not_replay_it(
    http: httpx.AsyncClient, fakes: OpsFakes
) -> None:
    await http.post("/signin", data={"key": KEYS[Role.OPERATOR]})
    pipeline = await http.get("/pipeline")
    assert pipeline.status_code == 200
    assert 'href="/pipeline/dlq/delivery.v1.dlq"' in pipeline.text
    page = await http.get("/pipeline/dlq/delivery.v1.dlq")
    assert "not an event" in page.text
    assert "delivery.v1:2:41" in page.text
    assert 'data-testid="replay-3"' not in page.text
    answer = await http.post(
        "/pipeline/dlq/delivery.v1.dlq/0/3/replay", data={"csrf": csrf_of(page.text)}
    )
    assert answer.status_code == 403
    assert fakes.dead_letters.replayed == []


async def test_an_admin_replays_a_dead_letter(http: httpx.AsyncClient, fakes: OpsFakes) -> None:
    await http.post("/signin", data={"key": KEYS[Role.ADMIN]})
    page = await http.get("/pipeline/dlq/delivery.v1.dlq")
    assert 'data-testid="replay-3"' in page.text
    answer = await http.post(
        "/pipeline/dlq/delivery.v1.dlq/0/3/replay", data={"csrf": csrf_of(page.text)}
    )
    assert answer.status_code == 303
    assert fakes.dead_letters.replayed == [("delivery.v1.dlq", 0, 3)]
    done = await http.get(answer.headers["location"])
    assert "published again on delivery.v1" in done.text


async def test_pipeline_json_needs_a_session(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/pipeline")).status_code == 401
    await http.post("/signin", data={"key": KEYS[Role.READ_ONLY]})
    body = (await http.get("/api/pipeline")).json()
    assert body["dead_letters"] == {"delivery.v1.dlq": 1}
    assert {c["id"] for c in body["charts"]} == {
        "steps", "handled", "lag", "dlq", "deliveries", "providers",
    }  # fmt: skip
