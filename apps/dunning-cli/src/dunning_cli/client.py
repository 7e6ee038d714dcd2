"""How the CLI talks to the services: its API key, one request, and failing with a message.

The key comes from ``DUNNING_API_KEY``, else from ``api_key`` in the config file
(``$XDG_CONFIG_HOME/dunning/config.toml``, by default ``~/.config/dunning/config.toml``),
never from a command-line argument: arguments end up in shell history and process lists.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dunning" / "config.toml"


def api_key() -> str | None:
    if key := os.environ.get("DUNNING_API_KEY", "").strip():
        return key
    path = config_path()
    try:
        config = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    value = config.get("api_key")
    return value.strip() if isinstance(value, str) and value.strip() else None


def auth_headers() -> dict[str, str]:
    key = api_key()
    return {"Authorization": f"Bearer {key}"} if key else {}


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"dunning: {message}", file=sys.stderr)
    raise typer.Exit(code)


def error_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or response.text)
    except ValueError:
        return response.text


def request(service: str, method: str, base: str, path: str, **options: Any) -> httpx.Response:
    """One request to a service with the API key; an unreachable service, a missing or
    refused key end the command with a message."""
    headers = {**auth_headers(), **options.pop("headers", {})}
    try:
        response = httpx.request(
            method, f"{base}{path}", headers=headers, **{"timeout": 30, **options}
        )
    except httpx.TransportError as exc:
        fail(f"cannot reach {service} at {base}: {exc}")
    if response.status_code == 401:
        where = "DUNNING_API_KEY" if os.environ.get("DUNNING_API_KEY") else str(config_path())
        fail(f"{service} refused the API key ({error_message(response)}); the key is read "
             f"from DUNNING_API_KEY or api_key in {config_path()} (now: {where})")  # fmt: skip
    if response.status_code == 403:
        fail(f"{service}: {error_message(response)}")
    return response
