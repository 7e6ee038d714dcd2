"""``dunning templates preview``: the scheduler's templates rendered for a sample account,
fetched from the scheduler's HTTP API (``GET /v1/templates/preview``) and printed as text.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import httpx
import typer

from dunning_cli.client import auth_headers
from dunning_cli.endpoints import SCHEDULER, SchedulerUrl

templates = typer.Typer(no_args_is_help=True, help="The scheduler's message templates.")


def render_previews(data: dict[str, Any]) -> str:
    """The preview response as text: one block per stage, template and channel."""
    blocks: list[str] = []
    for preview in data.get("previews", []):
        title = (
            f"== {preview['stage_key']} / {preview['template']} / {preview['channel']}"
            f" ({preview['locale']}) =="
        )
        lines = [title]
        if preview.get("subject"):
            lines.append(f"Subject: {preview['subject']}")
        lines += [f"{name}: {value}" for name, value in (preview.get("headers") or {}).items()]
        if len(lines) > 1:
            lines.append("")
        lines.append(preview["body"])
        blocks.append("\n".join(lines))
    if not blocks:
        return "no templates match"
    return "\n\n".join(blocks)


def _fail(message: str) -> None:
    print(f"dunning: {message}", file=sys.stderr)
    raise typer.Exit(1)


@templates.command()
def preview(
    locale: Annotated[str, typer.Option(help="en_US, es_US, zh_CN (or a language: es).")],
    stage: Annotated[str | None, typer.Option(help="A stage key or stage name.")] = None,
    channel: Annotated[str | None, typer.Option(help="sms or email.")] = None,
    state: Annotated[str, typer.Option(help="The sample consumer's state (CA adds notices).")] = (
        "NY"
    ),
    first: Annotated[
        bool, typer.Option("--first", help="As the first communication (its disclosures).")
    ] = False,
    scheduler: SchedulerUrl = SCHEDULER,
) -> None:
    """Render the templates for a sample account through the scheduler."""
    params: dict[str, str] = {"locale": locale, "state": state}
    if stage:
        params["stage"] = stage
    if channel:
        params["channel"] = channel
    if first:
        params["first_communication"] = "true"
    try:
        response = httpx.get(
            f"{scheduler}/v1/templates/preview", params=params, headers=auth_headers(), timeout=30
        )
    except httpx.TransportError as exc:
        _fail(f"cannot reach the scheduler at {scheduler}: {exc}")
        return
    if response.status_code != 200:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text
        _fail(f"the scheduler refused ({response.status_code}): {detail}")
    print(render_previews(response.json()))
