"""Every rule the gate runs is explained once, and docs/rules.md is what the catalog renders."""

from __future__ import annotations

from pathlib import Path

from dunning_gate.domain.rules import RULES
from dunning_gate.domain.rules.catalog import BY_ID, CATALOG, render_markdown
from dunning_gate.policy.vocabulary import EVALUATION_ERROR, INPUT_INVALID, RULE_IDS

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_every_rule_id_has_exactly_one_entry() -> None:
    ids = [entry.rule_id for entry in CATALOG]
    assert len(ids) == len(set(ids))
    assert set(ids) == {*RULE_IDS, INPUT_INVALID, EVALUATION_ERROR}
    assert {spec.rule_id for spec in RULES} <= set(ids)


def test_docs_rules_md_is_not_stale() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), "run `make docs`"


def test_every_rule_names_a_source_and_a_check() -> None:
    for entry in BY_ID.values():
        assert entry.source, entry.rule_id
        assert entry.checks, entry.rule_id
        assert entry.channels, entry.rule_id
