"""The labelled corpus: opt-out recall must stay at 100 %, overall accuracy above a floor."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dunning_replies import INTENTS, OPT_OUT_INTENTS, classify

CORPUS = Path(__file__).parent / "data" / "corpus.jsonl"
NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # Wednesday 15:00 in New York
ACCURACY_FLOOR = 0.95


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


ROWS = _rows()


def test_corpus_is_large_and_covers_every_intent_and_language() -> None:
    assert len(ROWS) >= 300
    for language in ("en", "es", "zh"):
        assert sum(r["lang"] == language for r in ROWS) >= 60
    assert {r["intent"] for r in ROWS} == set(INTENTS)


def test_opt_out_recall_is_total() -> None:
    """A missed opt-out is a violation: every opt-out in the corpus is read as one."""
    missed = [
        (r["text"], classify(r["text"], now=NOW).intent)
        for r in ROWS
        if r["intent"] in OPT_OUT_INTENTS
        and classify(r["text"], now=NOW).intent not in OPT_OUT_INTENTS
    ]
    assert missed == []


def test_accuracy_over_the_corpus() -> None:
    wrong = [
        (r["text"], r["intent"], got)
        for r in ROWS
        if (got := classify(r["text"], now=NOW, locale_hint=r["lang"]).intent) != r["intent"]
    ]
    assert 1 - len(wrong) / len(ROWS) >= ACCURACY_FLOOR, wrong


def test_language_is_the_message_s() -> None:
    wrong = [
        (r["text"], got)
        for r in ROWS
        if (got := classify(r["text"], now=NOW, locale_hint=r["lang"]).language) != r["lang"]
    ]
    assert len(wrong) <= len(ROWS) * 0.02, wrong


@pytest.mark.parametrize("row", [r for r in ROWS if "date" in r or "amount_minor" in r], ids=str)
def test_dates_and_amounts_as_labelled(row: dict[str, Any]) -> None:
    result = classify(row["text"], now=NOW)
    if "date" in row:
        assert result.date is not None
        assert result.date.isoformat() == row["date"]
    if "amount_minor" in row:
        assert result.amount is not None
        assert result.amount.minor_units == row["amount_minor"]
        assert result.amount.currency == "USD"


def test_held_out_replies_generalise() -> None:
    """Replies written after the vocabulary, never used to write it: a floor, not a target."""
    rows = [
        json.loads(line)
        for line in (CORPUS.parent / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    results = [(r, classify(r["text"], now=NOW).intent) for r in rows]
    accuracy = sum(r["intent"] == got for r, got in results) / len(rows)
    opt_outs = [got for r, got in results if r["intent"] in OPT_OUT_INTENTS]
    assert accuracy >= 0.85
    assert sum(got in OPT_OUT_INTENTS for got in opt_outs) / len(opt_outs) >= 0.95
