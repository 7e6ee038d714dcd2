"""``dunning sandbox inbox|reply``: try the system as a consumer, against the provider sandbox.

The sandbox keeps what each phone number and address received. ``inbox`` shows it (texts
with their body, e-mails with their subject), ``reply`` answers as that consumer through
the same doors a real one uses: a text goes to the sandbox's inbound webhook, signed as
Twilio signs it, and reaches our sms ingress; an e-mail address can unsubscribe or report
spam, as SendGrid's Event Webhook would tell us, or write any reply, which the sandbox
posts to our Inbound Parse URL as SendGrid does.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dunning_cli.endpoints import SANDBOX, SandboxUrl

sandbox = typer.Typer(no_args_is_help=True, help="The provider sandbox's inbox, as a consumer.")

# The number our texts come from in the local set-up (the sms worker's default sender).
OUR_NUMBER = os.environ.get("DUNNING_SMS_TWILIO_FROM_NUMBER", "+15005550006")
# What an e-mail recipient can do in the sandbox, by the words an operator would type.
EMAIL_ACTIONS = {
    "unsubscribe": "unsubscribe",
    "stop": "unsubscribe",
    "spam": "spamreport",
    "spamreport": "spamreport",
}


def _fail(message: str) -> None:
    print(f"dunning: {message}", file=sys.stderr)
    raise typer.Exit(1)


def _call(method: str, base: str, path: str, **request: Any) -> httpx.Response:
    try:
        return httpx.request(method, f"{base}{path}", timeout=30, **request)
    except httpx.TransportError as exc:
        _fail(f"cannot reach the provider sandbox at {base}: {exc}")
        raise  # unreachable: _fail exits


def _when(record: dict[str, Any]) -> str:
    raw = record.get("date_created") or record.get("created_at")
    if isinstance(raw, int | float):
        return datetime.fromtimestamp(raw, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(raw or "")


def received_by(messages: list[dict[str, Any]], to: str | None) -> list[dict[str, Any]]:
    """The messages sent to consumers (not their own texts to us), for one address or all."""
    found = []
    for message in messages:
        if message["channel"] == "inbound":
            continue
        recipients = message["to"] if isinstance(message["to"], list) else [message["to"]]
        if to is None or to.lower() in (r.lower() for r in recipients):
            found.append(message)
    return found


def inbox_table(messages: list[dict[str, Any]]) -> Table:
    """One row a message: when, to whom, by which channel, what it said, where it stands."""
    table = Table("when (UTC)", "to", "channel", "message", "status")
    for message in messages:
        recipients = message["to"] if isinstance(message["to"], list) else [message["to"]]
        if message["channel"] == "sms":
            text, status = message["body"], message["status"]
        else:
            text = f"[subject] {message.get('subject') or ''}"
            status = ", ".join(message.get("events") or []) or "accepted"
        # Text(): what consumers and templates wrote is shown as written, never as markup.
        table.add_row(
            _when(message), ", ".join(recipients), message["channel"], Text(text), Text(status)
        )
    return table


@sandbox.command()
def inbox(
    to: Annotated[str | None, typer.Option(help="Only what this phone or e-mail received.")] = None,
    limit: Annotated[int, typer.Option(help="Newest messages to look through.")] = 200,
    url: SandboxUrl = SANDBOX,
) -> None:
    """What each phone number and address received, newest first."""
    response = _call("GET", url, "/_sandbox/messages", params={"limit": limit})
    if response.status_code != 200:
        _fail(f"the sandbox answered {response.status_code}: {response.text[:300]}")
    messages = received_by(response.json()["messages"], to)
    if not messages:
        print("nothing received" + (f" by {to}" if to else ""))
        return
    Console().print(inbox_table(messages))


@sandbox.command()
def reply(
    to: Annotated[str, typer.Argument(help="The consumer: the phone (E.164) or e-mail address.")],
    text: Annotated[str, typer.Argument(help="What they answer: STOP, HELP, PAY, free text.")],
    url: SandboxUrl = SANDBOX,
) -> None:
    """Answer as the consumer: a text to our number; for an e-mail address UNSUBSCRIBE or
    SPAM (SendGrid's Event Webhook), any other text an e-mailed reply (Inbound Parse)."""
    if "@" in to:
        event = EMAIL_ACTIONS.get(text.strip().lower())
        if event is None:
            mail = {"from": to, "text": text}
            response = _call("POST", url, "/_sandbox/sendgrid/inbound", json=mail)
        else:
            action = {"email": to, "event": event}
            response = _call("POST", url, "/_sandbox/sendgrid/events", json=action)
    else:
        response = _call(
            "POST",
            url,
            "/_sandbox/twilio/inbound",
            json={"from": to, "to": OUR_NUMBER, "body": text},
        )
    if response.status_code >= 300:
        _fail(f"the sandbox answered {response.status_code}: {response.text[:300]}")
    answer = response.json()
    if answer.get("delivered") is False:
        _fail(f"our webhook did not take the reply (status {answer.get('status_code')})")
    print(f"{to} answered {text!r}: delivered to our webhook")
