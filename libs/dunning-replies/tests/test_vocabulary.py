"""Loading the vocabulary: the shipped one, a modified copy, and clear errors."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dunning_replies import Classifier, VocabularyError, load_vocabulary
from dunning_replies.vocabulary import DEFAULT_DIR

NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def test_the_shipped_vocabulary_loads_english_first() -> None:
    vocabulary = load_vocabulary()
    assert vocabulary.languages[0].language == "en"
    assert {"en", "es", "zh"} <= {v.language for v in vocabulary.languages}
    es = vocabulary.language("es")
    assert es is not None
    assert "no" in es.negations  # a word, not YAML 1.1's False


def test_an_operator_s_copy_changes_the_reading(tmp_path: Path) -> None:
    copy = tmp_path / "vocabulary"
    shutil.copytree(DEFAULT_DIR, copy)
    en = copy / "en.yaml"
    en.write_text(
        en.read_text(encoding="utf-8").replace(
            "    keywords: [stop, end,", "    keywords: [enough already, stop, end,"
        ),
        encoding="utf-8",
    )
    assert Classifier().classify("enough already", now=NOW).intent == "unknown"
    assert Classifier(load_vocabulary(copy)).classify("enough already", now=NOW).intent == "opt_out"


def test_an_error_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "xx.yaml"
    bad.write_text(
        "language: xx\nintents:\n  opt_out:\n    keywords: [stop]\n  hello:\n    keywords: [hi]\n",
        encoding="utf-8",
    )
    with pytest.raises(VocabularyError, match=r"xx\.yaml:5: intents\.hello"):
        load_vocabulary(bad)


def test_a_phrase_of_punctuation_only_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "xx.yaml"
    bad.write_text("language: xx\nintents:\n  help:\n    keywords: [help, '?']\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"xx\.yaml:4: intents\.help\.keywords\.1"):
        load_vocabulary(bad)


def test_unreadable_yaml_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "xx.yaml"
    bad.write_text("language: [xx\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="cannot read"):
        load_vocabulary(bad)
