"""Writes docs/rules.md from the gate's rule catalog: ``python -m dunning_gate.rules_doc PATH``."""

from __future__ import annotations

import sys
from pathlib import Path

from dunning_gate.domain.rules.catalog import render_markdown


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m dunning_gate.rules_doc PATH\n")
        return 2
    Path(argv[0]).write_text(render_markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
