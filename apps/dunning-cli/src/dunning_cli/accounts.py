"""``dunning accounts search|timeline|note|notes`` (and ``dunning account ID --timeline``):
tables, and the timeline's printable page or PDF written to a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dunning_cli.client import error_message, fail, request
from dunning_cli.endpoints import LEDGER, LedgerUrl

accounts = typer.Typer(
    no_args_is_help=True, help="Accounts in the ledger: search, timeline, notes."
)

Opt = Annotated[str | None, typer.Option()]


def ledger_get(ledger: str, path: str, params: dict[str, Any] | None = None) -> Any:
    response = request("the ledger", "GET", ledger, path, params=params)
    if response.status_code >= 400:
        fail(f"the ledger answered {response.status_code}: {error_message(response)}")
    return response.json()


def print_pages(
    ledger: str,
    path: str,
    params: dict[str, Any],
    pages: int,
    items: str,
    table: Callable[[list[dict[str, Any]]], Table],
) -> None:
    """GET a listing with the options given (None: left out), following ``next_cursor`` for
    ``pages`` pages at most; print its ``items`` as ``table`` draws them, and how many."""
    params = {k: v for k, v in params.items() if v is not None}
    rows: list[dict[str, Any]] = []
    page: dict[str, Any] = {"next_cursor": None}
    for _ in range(max(pages, 1)):
        page = ledger_get(ledger, path, params)
        rows += page[items]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    console = Console()
    console.print(table(rows))
    more = " (more: raise --pages)" if page["next_cursor"] else ""
    console.print(f"{len(rows)} {items[:-1]}(s) as of {page.get('as_of', '')}{more}")


def accounts_table(hits: list[dict[str, Any]]) -> Table:
    table = Table("account", "name", "state", "status", "balance", "due", "dpd", "phone")
    for a in hits:
        balance = a["balance"]
        table.add_row(
            a["account_id"],
            Text(a["full_name"]),  # as text: a name like "[bold]" is not markup
            a["state"],
            a["status"],
            f"{balance['display']} {balance['currency']}",
            a["due_date"] or "",
            "" if a["days_past_due"] is None else str(a["days_past_due"]),
            ", ".join(a["phones"]),
        )
    return table


@accounts.command()
def search(
    name: Annotated[str | None, typer.Option(help="Part of the full name, any case.")] = None,
    account_id: Annotated[str | None, typer.Option("--id", help="The account id.")] = None,
    phone: Opt = None,
    email: Opt = None,
    state: Opt = None,
    status: Annotated[str | None, typer.Option(help="open or paid.")] = None,
    stage: Annotated[str | None, typer.Option(help="Stage of the latest logged step.")] = None,
    balance_min: Annotated[str | None, typer.Option(help="Major units, e.g. 100.00.")] = None,
    balance_max: Opt = None,
    currency: Annotated[str, typer.Option()] = "USD",
    dpd_min: Annotated[int | None, typer.Option(help="Days past due, at least.")] = None,
    dpd_max: Annotated[int | None, typer.Option(help="Days past due, at most.")] = None,
    limit: Annotated[int, typer.Option(help="Accounts per page.")] = 50,
    pages: Annotated[int, typer.Option(help="Pages to fetch at most.")] = 1,
    ledger: LedgerUrl = LEDGER,
) -> None:
    """Accounts matching every option given, in account id order."""
    params: dict[str, Any] = {
        "name": name, "account_id": account_id, "phone": phone, "email": email,
        "state": state, "status": status, "stage": stage, "balance_min": balance_min,
        "balance_max": balance_max, "currency": currency, "days_past_due_min": dpd_min,
        "days_past_due_max": dpd_max, "limit": limit,
    }  # fmt: skip
    print_pages(ledger, "/v1/accounts", params, pages, "accounts", accounts_table)


def _words(e: dict[str, Any]) -> list[str]:
    """What was said: a decision's message (subject and body), a reply's text (its intent is
    in the summary); a note's text is its summary already."""
    if e["kind"] == "note" or not e.get("text"):
        return []
    lines = [f"  Subject: {e['subject']}"] if e.get("subject") else []
    return lines + [f"  | {line}" for line in e["text"].splitlines() or [""]]


def timeline_table(body: dict[str, Any]) -> Table:
    table = Table(
        "UTC", body["zone"], "what", "", "by", "step",
        title=Text(f"{body['account_id']}: {body['full_name']} ({body['state']})"),
        caption=body["message_bodies"],
    )  # fmt: skip
    for e in body["entries"]:
        rules = [f"  {r['rule_id']}: {r['explanation']}" for r in e["details"].get("rules", [])]
        table.add_row(
            e["at_utc"][:19].replace("T", " "),
            e["at_local"][:16].replace("T", " "),
            e["kind"],
            Text("\n".join([e["summary"], *rules, *_words(e)])),  # text: never rich markup
            (e["by"] or "").removeprefix("urn:dunning:"),
            e["step_id"] or "",
        )
    return table


def timeline_path(account_id: str) -> str:
    return f"/v1/accounts/{quote(account_id, safe='')}/timeline"


def show_timeline(ledger: str, account_id: str) -> None:
    Console().print(timeline_table(ledger_get(ledger, timeline_path(account_id))))


@accounts.command()
def timeline(
    account_id: str,
    html: Annotated[
        Path | None, typer.Option("--html", dir_okay=False, help="Write the printable page here.")
    ] = None,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", dir_okay=False, help="Write the page as PDF here.")
    ] = None,
    ledger: LedgerUrl = LEDGER,
) -> None:
    """Everything recorded about an account, in order: a table, or the printable page
    (--html FILE) or its PDF (--pdf FILE) to hand to a consumer or an examiner."""
    if html is not None and pdf is not None:
        fail("give --html FILE or --pdf FILE, not both")
    target, form = (html, "html") if html is not None else (pdf, "pdf")
    if target is None:
        show_timeline(ledger, account_id)
        return
    response = request(
        "the ledger", "GET", ledger, timeline_path(account_id), params={"format": form}
    )
    if response.status_code >= 400:
        fail(f"the ledger answered {response.status_code}: {error_message(response)}")
    try:
        target.write_bytes(response.content)
    except OSError as exc:
        fail(f"cannot write {target}: {exc}")
    print(f"wrote {target} ({len(response.content):,} bytes, {form})")


@accounts.command()
def note(
    account_id: str,
    text: Annotated[str, typer.Argument(help="The note, kept as text.")],
    ledger: LedgerUrl = LEDGER,
) -> None:
    """Write a note on an account (an agent key or above)."""
    path = f"/v1/accounts/{quote(account_id, safe='')}/notes"
    response = request("the ledger", "POST", ledger, path, json={"text": text})
    if response.status_code >= 400:
        fail(f"the ledger answered {response.status_code}: {error_message(response)}")
    written = response.json()
    print(f"{written['note_id']} recorded by {written['recorded_by']}")


@accounts.command()
def notes(account_id: str, ledger: LedgerUrl = LEDGER) -> None:
    """An account's notes, oldest first."""
    body = ledger_get(ledger, f"/v1/accounts/{quote(account_id, safe='')}/notes")
    table = Table("when (UTC)", "by", "note")
    for n in body["notes"]:
        table.add_row(
            n["created_at"][:19].replace("T", " "), n["recorded_by"] or "", Text(n["text"])
        )
    Console().print(table)
