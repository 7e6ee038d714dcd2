"""The replies classifier: how right (precision and recall per intent on the labelled
corpus) and how fast (messages/s, p50/p99 latency), beside a baseline in the same run.

The baseline is the plain whole-message keyword lookup the sms worker used to do: the
vocabulary's keywords only, matched against the whole normalised message. Its recall
shows what free text ("please stop texting me", "不要再发了") costs a keyword list.

    uv run python -m bench.bench_replies [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dunning_replies import INTENTS, OPT_OUT_INTENTS, Classifier, load_vocabulary
from dunning_replies.text import normalize

from bench.common import peak_rss_mb, percentiles_ms, report

DATA = Path(__file__).parent.parent / "libs" / "dunning-replies" / "tests" / "data"
CORPUS = DATA / "corpus.jsonl"  # the vocabulary was written against it
HELDOUT = DATA / "heldout.jsonl"  # kept out of the vocabulary's writing: how it generalises
NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def keyword_baseline() -> Callable[[str], str]:
    """Whole-message keyword lookup over the same vocabulary (first intent listed wins)."""
    table: dict[str, str] = {}
    for language in load_vocabulary().languages:
        for intent, terms in language.intents.items():
            for keyword in terms.keywords:
                table.setdefault(keyword, intent)

    def lookup(text: str) -> str:
        return table.get(normalize(text), "unknown")

    return lookup


def scores(labels: list[str], predicted: list[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for intent in INTENTS:
        tp = sum(g == intent and p == intent for g, p in zip(labels, predicted, strict=True))
        said = sum(p == intent for p in predicted)
        real = sum(g == intent for g in labels)
        figures[f"{intent}_precision"] = round(tp / said, 3) if said else None
        figures[f"{intent}_recall"] = round(tp / real, 3) if real else None
    opt_outs = [(g, p) for g, p in zip(labels, predicted, strict=True) if g in OPT_OUT_INTENTS]
    figures["opt_outs_recall"] = round(
        sum(p in OPT_OUT_INTENTS for _, p in opt_outs) / len(opt_outs), 4
    )
    false_opt_outs = sum(
        g not in OPT_OUT_INTENTS and p in OPT_OUT_INTENTS
        for g, p in zip(labels, predicted, strict=True)
    )
    figures["false_opt_outs"] = false_opt_outs
    figures["accuracy"] = round(
        sum(g == p for g, p in zip(labels, predicted, strict=True)) / len(labels), 4
    )
    return figures


def timed(fn: Callable[[str], Any], texts: list[str], repeat: int) -> dict[str, Any]:
    samples: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            fn(text)
            samples.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    figures: dict[str, Any] = {"messages_per_s": round(len(samples) / elapsed)}
    figures.update({k: v for k, v in percentiles_ms(samples).items() if k in ("p50_ms", "p99_ms")})
    return figures


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus timed")
    args = parser.parse_args()
    rows = _rows(CORPUS)
    heldout = _rows(HELDOUT)
    texts, labels = [r["text"] for r in rows], [r["intent"] for r in rows]

    load_started = time.perf_counter()
    classifier = Classifier()
    load_s = time.perf_counter() - load_started

    def ours(text: str) -> str:
        return classifier.classify(text, now=NOW).intent

    baseline = keyword_baseline()
    for text in texts:  # warm-up: dateparser loads its language data on first use
        ours(text)

    mine = scores(labels, [ours(t) for t in texts])
    base = scores(labels, [baseline(t) for t in texts])
    held = scores([r["intent"] for r in heldout], [ours(r["text"]) for r in heldout])
    speed, base_speed = timed(ours, texts, args.repeat), timed(baseline, texts, args.repeat)
    long_texts = [("I have a question about my balance and the fees. " * 32)[:1600]] * 200
    long_speed = timed(ours, long_texts, 1)

    figures: dict[str, Any] = {
        "corpus_messages": len(rows),
        "corpus_by_language": json.dumps(Counter(r["lang"] for r in rows), sort_keys=True),
        "vocabulary_load_and_compile_s": round(load_s, 3),
        **mine,
        **{f"baseline_{k}": v for k, v in base.items() if not k.endswith("_precision")},
        "heldout_messages": len(heldout),
        "heldout_accuracy": held["accuracy"],
        "heldout_opt_outs_recall": held["opt_outs_recall"],
        "heldout_false_opt_outs": held["false_opt_outs"],
        **speed,
        **{f"baseline_{k}": v for k, v in base_speed.items()},
        "long_1600_chars_p50_ms": long_speed["p50_ms"],
        "long_1600_chars_p99_ms": long_speed["p99_ms"],
        "throughput_ratio_vs_baseline": round(
            speed["messages_per_s"] / base_speed["messages_per_s"], 3
        ),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        # the machine is shared: a high load makes the speed figures a floor
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    report("replies", figures)


if __name__ == "__main__":
    main()
