"""``dunning import FILE``: the file streamed to the ledger with a progress bar (bytes sent
of the total, rows a second), then the result, or the rows refused, as tables.

CSV by default; ``.jsonl`` and ``.ndjson`` files go as JSON Lines. The file is read a
piece at a time, never whole, so a portfolio of millions of rows sends as it is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from dunning_cli.client import error_message, fail, request

CHUNK = 1024 * 1024
ERRORS_SHOWN = 50
_JSON_LINES = (".jsonl", ".ndjson")


def content_type(path: Path) -> str:
    return "application/x-ndjson" if path.suffix.lower() in _JSON_LINES else "text/csv"


def import_file(path: Path, ledger: str, *, as_json: bool = False) -> bool:
    """Send ``path``; print what the ledger answered. True when the file was imported."""
    if not path.is_file():
        fail(f"no file {path}")
    console = Console(stderr=True)
    total = path.stat().st_size
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("sending", total=total, rows=0, rate=0.0)
        started = time.monotonic()

        def chunks() -> Iterator[bytes]:
            rows = -1 if content_type(path) == "text/csv" else 0  # the header is no row
            with path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    rows += chunk.count(b"\n")
                    rate = max(rows, 0) / max(time.monotonic() - started, 1e-6)
                    progress.update(task, advance=len(chunk), rows=max(rows, 0), rate=rate)
                    yield chunk
            progress.update(task, description="checking and merging")

        response = request(
            "the ledger",
            "POST",
            ledger,
            "/v1/accounts/import",
            content=chunks(),
            headers={"content-type": content_type(path)},
            timeout=httpx.Timeout(30, read=None, write=None),
        )
        progress.update(task, description="done" if response.is_success else "refused")
    body = _body(response)
    if as_json:
        print(json.dumps(body, indent=2))
    elif response.status_code == 200:
        Console().print(result_table(body))
        if body.get("balances_kept"):
            Console().print(balances_kept_table(body["balances_kept"]))
    elif body.get("error") == "import_rejected":
        Console().print(Text(body["message"], style="bold red"))
        Console().print(errors_table(body))
    else:
        fail(f"the ledger answered {response.status_code}: {error_message(response)}")
    return response.status_code == 200


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        fail(f"the ledger answered {response.status_code}: {response.text[:500]}")
    return body if isinstance(body, dict) else {"body": body}


def result_table(body: dict[str, Any]) -> Table:
    table = Table("received", "opened", "updated", "unchanged", "recorded by", title="imported")
    table.add_row(
        f"{body['received']:,}",
        f"{body['opened']:,}",
        f"{body['updated']:,}",
        f"{body['unchanged']:,}",
        body.get("recorded_by") or "",
    )
    return table


def balances_kept_table(kept: list[dict[str, Any]]) -> Table:
    table = Table(
        "account", "row", "file balance", "ledger balance (kept)",
        title="balances payments have moved: reported, not applied",
    )  # fmt: skip
    for k in kept:
        table.add_row(
            k["account_id"],
            str(k["row"]),
            f"{k['file_balance']['display']} {k['file_balance']['currency']}",
            f"{k['ledger_balance']['display']} {k['ledger_balance']['currency']}",
        )
    return table


def errors_table(body: dict[str, Any]) -> Table:
    errors = body.get("errors", [])
    count = body.get("error_count", len(errors))
    more = f" (the first {ERRORS_SHOWN} of {count:,})" if count > ERRORS_SHOWN else ""
    table = Table("row", "line", "field", "problem", title=f"nothing was imported{more}")
    for e in errors[:ERRORS_SHOWN]:
        line = e.get("line")
        table.add_row(
            str(e["row"]), "" if line is None else str(line), e.get("field") or "",
            Text(e["message"]),
        )  # fmt: skip
    return table
