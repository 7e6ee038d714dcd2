"""The portfolio page's view model, from the ledger's figures (pure)."""

from __future__ import annotations

from typing import Any

from dunning_ops.domain.portfolio import deliverability, portfolio_view
from dunning_testkit.ops import FIGURES


def _charts(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.id: c.json() for c in portfolio_view(figures).charts}


def test_every_chart_of_the_issue_is_there() -> None:
    assert set(_charts(FIGURES)) == {
        "stages", "statuses", "collected", "payments", "messages", "deliverability",
        "rates", "rules",
    }  # fmt: skip


def test_stages_in_ladder_order_and_collections_fill_every_day() -> None:
    charts = _charts(FIGURES)
    assert charts["stages"]["labels"] == ["friendly_reminder", "urgency", "none"]
    assert charts["stages"]["series"][0]["data"] == [5, 4, 1]
    assert charts["payments"]["labels"] == [
        "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05",
    ]  # fmt: skip
    assert charts["payments"]["series"][0]["data"] == [0, 2, 0, 1, 0]
    # cumulative, in major units
    assert charts["collected"]["series"][0]["data"] == [0, 150, 150, 200, 200]


def test_deliverability_counts_final_provider_outcomes_only() -> None:
    rates = deliverability(FIGURES["messages_by_channel_and_outcome"])
    assert rates == {"email": 1.0, "sms": 0.75}  # email's 4 'sent' are still on their way
    assert deliverability({"sms": {"block": 3}}) == {"sms": None}


def test_messages_and_rules_are_stacked_by_outcome() -> None:
    charts = _charts(FIGURES)
    messages = charts["messages"]
    assert messages["stacked"] is True
    assert messages["labels"] == ["sms", "email"]
    by_label = {s["label"]: s["data"] for s in messages["series"]}
    assert by_label["delivered"] == [6, 3]
    assert by_label["block"] == [1, 0]
    rules = charts["rules"]
    assert rules["kind"] == "hbar"
    assert rules["labels"] == ["consent.opt_out", "time.quiet_hours"]
    assert {s["label"]: s["data"] for s in rules["series"]} == {"block": [2, 0], "defer": [0, 5]}


def test_tiles_show_rates_and_say_why_a_figure_is_missing() -> None:
    tiles = {t.id: t for t in portfolio_view(FIGURES).tiles}
    assert tiles["accounts"].value == "10"
    assert tiles["dispute_rate"].value == "25.0%"
    assert tiles["deliverability_sms"].value == "75.0%"
    assert tiles["promise_kept_rate"].value == "75.0%"
    assert tiles["promise_kept_rate"].note == "3 of 4 promises come due"
    none_due = {**FIGURES, "promises_judged": 0, "promises_kept": 0, "promise_kept_rate": None}
    tile = {t.id: t for t in portfolio_view(none_due).tiles}["promise_kept_rate"]
    assert (tile.value, tile.note) == ("n/a", "no promise has come due")
    older = {**FIGURES, "promise_kept_rate": None, "omitted": {"promise_kept_rate": "why"}}
    tile = {t.id: t for t in portfolio_view(older).tiles}["promise_kept_rate"]
    assert (tile.value, tile.note) == ("n/a", "why")


def test_an_empty_portfolio_is_drawn_empty_not_broken() -> None:
    empty = {"collected_since": "2026-03-01", "collected_until": "2026-03-01"}
    charts = _charts(empty)
    assert all(c["empty"] for c in charts.values())
    assert charts["payments"]["labels"] == ["2026-03-01"]
