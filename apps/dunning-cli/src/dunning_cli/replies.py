"""``dunning replies classify``: how the one shared classifier reads consumers' replies.

Offline: the texts are read here with `dunning_replies` (a pure library, the same one the
sms and email workers and the gate's what-if use), from the shipped vocabulary or, with
``--vocabulary DIR``, from a modified copy an operator wants to check before it ships.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from dunning_replies import Classifier, VocabularyError, format_rows, load_vocabulary
from rich.console import Console
from rich.table import Table
from rich.text import Text

replies = typer.Typer(no_args_is_help=True, help="How consumers' replies are read.")


def _amount(amount: dict[str, Any] | None) -> str:
    if amount is None:
        return ""
    units = int(amount["minor_units"])
    return f"{amount['currency']} {units // 100}.{units % 100:02d}"


def render_table(rows: list[dict[str, Any]]) -> Table:
    """The rows of `format_rows` as a table: text, intent, date, amount."""
    table = Table("text", "intent", "date", "amount")
    for row in rows:
        # Text(): a reply such as "[stop] please" is shown as written, not read as markup.
        table.add_row(Text(row["text"]), row["intent"], row["date"] or "", _amount(row["amount"]))
    return table


@replies.command()
def classify(
    texts: Annotated[list[str], typer.Argument(help="One or more replies, each quoted.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line: text, intent, date, amount.")
    ] = False,
    vocabulary: Annotated[
        Path | None,
        typer.Option(help="A folder of <language>.yaml vocabulary files (default: shipped)."),
    ] = None,
    tz: Annotated[str, typer.Option(help="The consumer's zone, for dates.")] = "America/New_York",
    after_opt_out: Annotated[
        bool, typer.Option(help="Read the texts as replies right after an opt-out (YES).")
    ] = False,
) -> None:
    """Print each text's intent, with any date or amount found in it."""
    try:
        classifier = Classifier(load_vocabulary(vocabulary) if vocabulary else None)
        now = datetime.now(UTC)
        results = [
            (text, classifier.classify(text, tz=tz, now=now, after_opt_out=after_opt_out))
            for text in texts
        ]
    except (VocabularyError, ValueError) as error:
        print(f"dunning: {error}", file=sys.stderr)
        raise typer.Exit(2) from error
    rows = format_rows(results)
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        Console().print(render_table(rows))
