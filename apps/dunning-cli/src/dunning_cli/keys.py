"""``dunning keys create|list|revoke``: the ledger's API keys (an admin key is needed).

The plain key is printed once, by ``create``: the ledger keeps only its hash.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dunning_cli.client import error_message, fail, request
from dunning_cli.endpoints import LEDGER, LedgerUrl

keys = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke (admin).")

ROLES = ("admin", "operator", "agent", "read_only", "payment_system", "portal")


def _call(method: str, ledger: str, path: str, **options: Any) -> Any:
    response = request("the ledger", method, ledger, path, **options)
    if response.status_code >= 400:
        fail(f"the ledger answered {response.status_code}: {error_message(response)}")
    return response.json()


def keys_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("key id", "name", "role", "created", "by", "revoked")
    for k in rows:
        revoked = f"{k['revoked_at'][:19]} by {k['revoked_by']}" if k.get("revoked") else ""
        table.add_row(
            k["key_id"], k["name"], k["role"], k["created_at"][:19], k["created_by"], revoked
        )
    return table


@keys.command()
def create(
    name: Annotated[str, typer.Option(help="Who the key stands for, e.g. ops-jane.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    ledger: LedgerUrl = LEDGER,
) -> None:
    """Create a key; it is printed this once and never again."""
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}", 2)
    created = _call("POST", ledger, "/v1/keys", json={"name": name, "role": role})
    console = Console()
    console.print(keys_table([created]))
    console.print("The key (shown once; store it in a secret manager):", style="bold")
    print(created["key"])


@keys.command(name="list")
def list_keys(ledger: LedgerUrl = LEDGER) -> None:
    """Every key: id, name, role, who created and who revoked it (never the key)."""
    Console().print(keys_table(_call("GET", ledger, "/v1/keys")["keys"]))


@keys.command()
def revoke(key_id: str, ledger: LedgerUrl = LEDGER) -> None:
    """Revoke a key; every service refuses it within seconds."""
    revoked = _call("DELETE", ledger, f"/v1/keys/{key_id}")
    Console().print(keys_table([revoked]))
