"""The policies page: the scheduler's active ladder drawn with each step's volumes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dunning_core.contracts.access import Role
from dunning_ops.domain.policies import policy_view
from dunning_testkit.ops import FIGURES, KEYS, FakeScheduler, OpsFakes

STATS: dict[str, Any] = {
    "cases_by_status": {"active": 6, "paused": 1},
    "cases_by_stage": {
        "reminder": {"active": 4},
        "urgency": {"active": 2, "paused": 1},
        "(done)": {"exhausted": 3},
    },
    "policy": {
        "name": "default", "version": "2026-03",
        "resume_stage": "urgency",
        "stages": [
            {"key": "reminder", "stage": "friendly_reminder", "channels": ["sms", "email"],
             "offset_days": 0, "offset_from": "delinquency", "max_attempts": 2,
             "retry_every_days": 3, "requires_legal_authority": False, "fallback": None},
            {"key": "urgency", "stage": "urgency", "channels": ["email"], "offset_days": 7,
             "offset_from": "previous", "max_attempts": 1, "retry_every_days": None,
             "requires_legal_authority": False, "fallback": None},
            {"key": "legal", "stage": "legal_warning", "channels": ["email"], "offset_days": 14,
             "offset_from": "previous", "max_attempts": 1, "retry_every_days": None,
             "requires_legal_authority": True,
             "fallback": {"stage": "formal_notice", "templates": ["formal"]}},
        ],
    },
}  # fmt: skip


def test_each_step_in_order_with_its_rule_and_volume() -> None:
    view = policy_view(STATS, FIGURES)
    assert [s.key for s in view.steps] == ["reminder", "urgency", "legal"]
    first, second, third = view.steps
    assert first.timing == "day 0 of delinquency"
    assert first.attempts == "2 attempts, every 3 days"
    assert second.timing == "7 days after the previous step"
    assert third.legal == "legal authority required; otherwise formal_notice"
    assert first.cases == {"active": 4}
    assert first.accounts_at_stage == 5  # the ledger's accounts last messaged at that stage
    assert third.cases == {}
    # the bars scale to the fullest step; boxes go down the page
    assert first.bar == 600 > second.bar == 450 > 0  # 4 and 3 cases
    assert third.bar == 0
    assert first.y < second.y < third.y
    assert view.finished == {"exhausted": 3}
    chart = view.charts[0].json()
    assert chart["labels"] == ["reminder", "urgency", "legal", "(done)"]
    assert {s["label"]: s["data"] for s in chart["series"]}["active"] == [4, 2, 0, 0]


def test_no_policy_yet_draws_an_empty_ladder() -> None:
    view = policy_view({}, {})
    assert view.steps == ()
    assert view.charts[0].empty


@pytest.fixture
def fakes() -> OpsFakes:
    return OpsFakes(scheduler=FakeScheduler(STATS))


async def test_the_page_draws_the_ladder_for_any_signed_in_role(http: httpx.AsyncClient) -> None:
    assert (await http.get("/policies")).status_code == 303
    await http.post("/signin", data={"key": KEYS[Role.READ_ONLY]})
    page = await http.get("/policies")
    assert page.status_code == 200
    assert 'data-testid="step-legal"' in page.text
    assert "2 active · 1 paused" in page.text
    body = (await http.get("/api/policies")).json()
    assert [s["key"] for s in body["steps"]] == ["reminder", "urgency", "legal"]
