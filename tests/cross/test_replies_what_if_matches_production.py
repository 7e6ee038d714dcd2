"""A text the gate's what-if reads as an opt-out is an opt-out in production (issue 9).

Both paths read the same labelled corpus: the gate's domain `evaluate`, with the message
as an inbound text in the request (as `rules.wishes` reads it), and the sms worker's
`read_inbound`, whose `SignalKind.OPTED_OUT` suppresses the number and reaches the gate's
state. They must agree on every message, alone and right after a STOP (when "YES" opts
back in).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dunning_core.contracts.events import SignalKind
from dunning_gate.domain import EvaluationRequest, build_request, evaluate
from dunning_gate.domain.examples import PHONE, example_request, with_changes
from dunning_gate.policy import default_policy
from dunning_sms.domain import read_inbound

DATA = Path(__file__).resolve().parents[2] / "libs" / "dunning-replies" / "tests" / "data"
TEXTS = [
    json.loads(line)["text"]
    for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
POLICY = default_policy()
STOPPED_AT = "2025-06-30T14:00:00Z"
RECEIVED_AT = "2025-06-30T15:00:00Z"
NOW = datetime(2025, 6, 30, 15, 0, tzinfo=UTC)


def _what_if_opts_out(*texts_at: tuple[str, str]) -> bool:
    messages: list[dict[str, Any]] = [
        {"channel": "sms", "from_address": PHONE, "text": text, "received_at": at}
        for text, at in texts_at
    ]
    request = build_request(
        with_changes(example_request(), {"consumer.inbound_messages": messages}), POLICY
    )
    assert isinstance(request, EvaluationRequest), request
    return "optout.channel" in evaluate(request, POLICY).rule_ids


def test_the_corpus_is_the_labelled_one() -> None:
    assert len(TEXTS) >= 300


def test_without_messages_the_example_step_is_allowed() -> None:
    """The baseline: whatever blocks below, the inbound text blocked it."""
    assert not _what_if_opts_out()


@pytest.mark.parametrize("text", TEXTS)
def test_what_if_opts_out_exactly_when_the_sms_worker_does(text: str) -> None:
    production = read_inbound(text, now=NOW).kind is SignalKind.OPTED_OUT
    assert _what_if_opts_out((text, RECEIVED_AT)) is production


@pytest.mark.parametrize("text", TEXTS)
def test_after_a_stop_only_an_opt_in_lifts_it_on_both_paths(text: str) -> None:
    production = read_inbound(text, now=NOW, after_opt_out=True).kind is not SignalKind.OPTED_IN
    assert _what_if_opts_out(("STOP", STOPPED_AT), (text, RECEIVED_AT)) is production
