"""``dunning tasks list|claim|release|complete``: the ledger's agent task queue, as tables.

The key's principal is who claims: an agent's own key (``DUNNING_API_KEY``), not a name
given on the command line.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dunning_cli.accounts import print_pages
from dunning_cli.client import error_message, fail, request
from dunning_cli.endpoints import LEDGER, LedgerUrl

tasks = typer.Typer(no_args_is_help=True, help="Agent tasks: call-backs and replies to review.")


def _when(value: str | None) -> str:
    return "" if value is None else value[:16].replace("T", " ")


def tasks_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("task", "account", "kind", "status", "due (UTC)", "window (UTC)", "who", "reply")
    for t in rows:
        who = t["completed_by"] or t["claimed_by"] or ""
        if t["claimed_by"] and t["lease_until"]:
            who += f" until {_when(t['lease_until'])[11:]}"
        table.add_row(
            t["task_id"], t["account_id"], t["kind"], t["status"], _when(t["due_at"]),
            f"{_when(t['window_start'])} - {_when(t['window_end'])[11:]}", who,
            Text(t["outcome"] or t["message_text"] or ""),  # text, never markup
        )  # fmt: skip
    return table


def task_table(t: dict[str, Any]) -> Table:
    table = Table("field", "value", show_header=False)
    for name in (
        "task_id", "account_id", "kind", "reason", "status", "due_at", "window_start",
        "window_end", "claimed_by", "lease_until", "completed_by", "outcome", "message_text",
    ):  # fmt: skip
        value = t.get(name)
        table.add_row(name, Text("" if value is None else str(value)))
    return table


def _post(task_id: str, action: str, ledger: str, body: dict[str, Any] | None = None) -> None:
    path = f"/v1/tasks/{quote(task_id, safe='')}/{action}"
    response = request("the ledger", "POST", ledger, path, json=body)
    if response.status_code >= 400:
        fail(f"the ledger answered {response.status_code}: {error_message(response)}")
    Console().print(task_table(response.json()))


@tasks.command("list")
def list_tasks(
    status: Annotated[str | None, typer.Option(help="open, claimed, done or cancelled.")] = None,
    kind: Annotated[str | None, typer.Option(help="call_back, review_reply, ...")] = None,
    account_id: Annotated[str | None, typer.Option("--account", help="One account.")] = None,
    due_before: Annotated[str | None, typer.Option(help="UTC, e.g. 2026-12-07T00:00Z.")] = None,
    limit: Annotated[int, typer.Option(help="Tasks per page.")] = 50,
    pages: Annotated[int, typer.Option(help="Pages to fetch at most.")] = 1,
    ledger: LedgerUrl = LEDGER,
) -> None:
    """Tasks by due instant (a claim whose lease lapsed lists as open)."""
    params: dict[str, Any] = {
        "status": status, "kind": kind, "account_id": account_id, "due_before": due_before,
        "limit": limit,
    }  # fmt: skip
    print_pages(ledger, "/v1/tasks", params, pages, "tasks", tasks_table)


@tasks.command()
def claim(task_id: str, ledger: LedgerUrl = LEDGER) -> None:
    """Claim a task for its lease (again: renew it). Refused when another agent holds it."""
    _post(task_id, "claim", ledger)


@tasks.command()
def release(task_id: str, ledger: LedgerUrl = LEDGER) -> None:
    """Give a claimed task back to the queue."""
    _post(task_id, "release", ledger)


@tasks.command()
def complete(
    task_id: str,
    outcome: Annotated[str, typer.Argument(help="What was done, kept as text.")],
    ledger: LedgerUrl = LEDGER,
) -> None:
    """Complete a task you hold, with an outcome note."""
    _post(task_id, "complete", ledger, {"outcome": outcome})
