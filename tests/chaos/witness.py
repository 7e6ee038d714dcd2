"""The sandbox as witness: what it accepted and when, and the answers a send is judged by."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx


def _saved(path: str) -> list[dict[str, Any]] | None:
    file = Path(path)
    return json.loads(file.read_text()) if file.exists() else None


async def sandbox_record(url: str, saved: str | None = None) -> list[dict[str, Any]]:
    if saved is not None and (messages := _saved(saved)) is not None:
        return messages
    async with httpx.AsyncClient(timeout=120) as http:
        messages = []
        for channel in ("sms", "email"):
            response = await http.get(
                f"{url}/_sandbox/messages", params={"channel": channel, "limit": 100000}
            )
            response.raise_for_status()
            messages += response.json()["messages"]
        return messages


def message_step(message: dict[str, Any]) -> tuple[str | None, str | None, float]:
    """(step id, account id, accepted at: wall seconds) of one sandbox message: exact when
    the sandbox says (``accepted_at``), else the provider's timestamp, floored to the second."""
    if message["channel"] == "sms":
        query = parse_qs(urlparse(message.get("status_callback") or "").query)
        accepted = email.utils.parsedate_to_datetime(message["date_created"]).timestamp()
        step, account = query.get("step_id", [None])[0], query.get("account_id", [None])[0]
    else:
        args = message.get("custom_args") or {}
        step, account, accepted = args.get("step_id"), args.get("account_id"), message["created_at"]
    return step, account, float(message.get("accepted_at") or accepted)


def answered(
    signals: Sequence[tuple[float, str, str | None]], scope: str, recorded_at: float
) -> float | None:
    """When the signal that reached the topic at ``recorded_at`` was answered (the first
    answer of its scope after it), if it was."""
    times = [at for at, s, how in signals if how == "acked" and s == scope and at >= recorded_at]
    return min(times, default=None)
