"""The demo's live view: rows from figures (pure), the plain line, the drawn view, the summary;
which topics of earlier demos a demo deletes."""

from __future__ import annotations

import io
from typing import Any

from dunning_cli.demo import stale_demo_topics
from dunning_cli.demo_live import Progress, parse_metrics, render
from dunning_cli.demo_view import LADDER, Figures, build_view, plain_line
from dunning_cli.report import render_summary
from rich.console import Console

SUMMARY: dict[str, Any] = {
    "accounts": {"total": 10, "open": 8, "paid": 2},
    "steps": {"total": 9, "allow": 6, "defer": 2, "block": 1},
    "stages": {
        "friendly_reminder": {"total": 5, "allow": 3, "defer": 1, "block": 1},
        "urgency": {"total": 3, "allow": 2, "defer": 1, "block": 0},
        "none": {"total": 1, "allow": 1, "defer": 0, "block": 0},
    },
    "rules": {
        "block": {"optout.channel": 1},
        "defer": {"hours.fdcpa": 4, "frequency.sms_daily": 2, "a.rule": 2, "z.rule": 1},
    },
    "deliveries": {"sms": {"delivered": 4, "awaiting": 1}, "email": {"bounced": 1}},
    "payments": {"count": 2, "amount": {"USD": "123.45"}},
    "flags": {"opted_out": 1},
    "outbox_pending": 3,
}
PORTFOLIO: dict[str, Any] = {"accounts_by_stage": {"urgency": 3, "friendly_reminder": 5}}
METRICS = """# HELP dunning_consumer_lag Records behind.
# TYPE dunning_consumer_lag gauge
dunning_consumer_lag{group="gate",partition="0",topic="x.step.planned.v1"} 4.0
dunning_consumer_lag{group="gate",partition="1",topic="x.step.planned.v1"} 3.0
# TYPE dunning_dead_letters_total counter
dunning_dead_letters_total{group="gate",topic="x.step.planned.v1"} 1.0
# TYPE dunning_steps_total counter
dunning_steps_total{outcome="allow",rule=""} 9.0
"""


def figures(**overrides: Any) -> Figures:
    values: dict[str, Any] = {
        "summary": SUMMARY,
        "portfolio": PORTFOLIO,
        "metrics": {"gate": parse_metrics(METRICS)},
        "simulated_at": "2026-03-14T10:00:00+00:00",
    }
    return Figures(**(values | overrides))


def test_stage_rows_follow_the_ladder_with_zeros_for_stages_not_reached() -> None:
    view = build_view(figures())

    assert [r.stage for r in view.stages] == list(LADDER)
    first, urgency, formal, legal = view.stages
    assert (first.accounts, first.planned, first.approved, first.deferred, first.blocked) == (
        5,
        5,
        3,
        1,
        1,
    )
    assert (urgency.accounts, urgency.planned, urgency.approved, urgency.deferred) == (3, 3, 2, 1)
    assert (formal.planned, legal.planned, legal.accounts) == (0, 0, 0)
    assert view.reached == ("friendly_reminder", "urgency")
    assert view.missing == ("formal_notice", "legal_warning")


def test_top_rule_ids_most_steps_first_then_by_name() -> None:
    view = build_view(figures())

    blocked, deferred = view.rules
    assert (blocked.decision, blocked.rules) == ("blocked", (("optout.channel", 1),))
    assert deferred.decision == "deferred"
    assert deferred.rules == (("hours.fdcpa", 4), ("a.rule", 2), ("frequency.sms_daily", 2))


def test_deliveries_payments_and_pipeline() -> None:
    view = build_view(figures())

    assert [(d.channel, d.total, d.statuses) for d in view.deliveries] == [
        ("email", 1, (("bounced", 1),)),
        ("sms", 5, (("awaiting", 1), ("delivered", 4))),
    ]
    assert (view.payments, view.collected) == (2, "USD 123.45")
    assert (view.accounts, view.open_accounts) == (10, 8)
    assert [(p.service, p.lag, p.dead_letters) for p in view.pipeline] == [("gate", 7, 1)]
    assert view.outbox_backlog == 3  # no outbox gauge scraped: the summary's count
    assert view.flags == (("opted_out", 1),)


def test_a_stage_outside_the_ladder_is_shown_after_it() -> None:
    summary = SUMMARY | {"stages": {"plan_reminder": {"total": 2, "allow": 2}}}
    view = build_view(figures(summary=summary))

    assert [r.stage for r in view.stages] == [*LADDER, "plan_reminder"]
    assert view.reached == ()  # a stage outside the ladder does not count as reached
    assert len(view.missing) == len(LADDER)


def test_nothing_read_yet_gives_an_empty_view() -> None:
    view = build_view(Figures())

    assert all(r.planned == 0 for r in view.stages)
    assert (view.deliveries, view.payments, view.collected, view.pipeline) == ((), 0, "-", ())
    assert view.outbox_backlog is None
    assert plain_line(view, 0).startswith("t+   0s  steps(approved/deferred/blocked) -")


def test_plain_line_names_each_stage_reached_and_has_no_escape_codes() -> None:
    line = plain_line(build_view(figures()), 12.4)

    assert line.startswith("t+  12s sim 2026-03-14T10:00  ")
    assert "friendly_reminder=3/1/1 urgency=2/1/0 " in line
    assert "formal_notice" not in line
    assert "sms:awaiting=1,delivered=4" in line
    assert "payments 2 (USD 123.45)" in line
    assert "lag 7" in line
    assert "\x1b" not in line


def test_the_drawn_view_shows_every_stage_and_the_rules() -> None:
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(render(build_view(figures()), 3.0))
    text = out.getvalue()

    for stage in LADDER:
        assert stage in text
    assert "hours.fdcpa 4" in text
    assert "delivered 4" in text
    assert "✓ urgency" in text
    assert "· legal_warning" in text


def test_progress_off_a_terminal_prints_a_plain_line_every_few_seconds() -> None:
    out = io.StringIO()
    view = build_view(figures())
    with Progress(out=out) as progress:  # a StringIO is no terminal
        for elapsed in (0.0, 0.5, 1.0, 4.9, 5.0, 5.5, 10.1):
            progress.show(view, elapsed)
        progress.show(view, 10.2, force=True)

    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["t+", "t+", "t+", "t+"]
    assert [line.split()[1] for line in lines] == ["0s", "5s", "10s", "10s"]
    assert "\x1b" not in out.getvalue()


def test_summary_says_whether_every_stage_had_steps() -> None:
    partial = render_summary(SUMMARY)
    assert "  urgency                3: 2 / 1 / 0" in partial
    assert "NOT every stage had steps: none for formal_notice, legal_warning" in partial

    every = {s: {"total": 1, "allow": 1, "defer": 0, "block": 0} for s in LADDER}
    whole = render_summary(SUMMARY | {"stages": every})
    assert "every stage had steps (friendly_reminder > urgency > formal_notice > " in whole
    assert "NOT" not in whole


def test_a_demo_deletes_only_the_topics_of_demos_long_gone() -> None:
    existing = [
        "demo1000.step.planned.v1",  # 10 min and 1 s before: stale
        "demo1600.step.planned.v1",  # a demo started 5 min before may still run
        "demotest.step.planned.v1",
        "e2e1234.step.planned.v1",
    ]
    assert stale_demo_topics("demo1601.", existing) == ["demo1000.step.planned.v1"]
    # A run with a prefix of its own (a test's, an e2e pipeline's) deletes nothing.
    assert stale_demo_topics("dtest1a2b3c.", existing) == []
    assert stale_demo_topics("e2e99.", existing) == []
