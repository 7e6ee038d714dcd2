"""Where the repository is and on which ports the local stack and the services listen.

One place for both: the stack's ports are read from ``deploy/local/stack.env`` (which the
stack scripts source) and the services' ports from ``deploy/local/services.conf`` (which
``services.sh`` reads). The ``DUNNING_*`` environment variables still win, so a test run
can point at another stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _find_repo() -> Path:
    if env := os.environ.get("DUNNING_REPO"):
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "deploy/local/stack.env").is_file() and (folder / "uv.lock").is_file():
                return folder
    raise RuntimeError("cannot find the repository (set DUNNING_REPO)")


REPO = _find_repo()
LOCAL = REPO / "deploy/local"


def env_file(name: str) -> dict[str, str]:
    """``KEY=value`` lines of a file of ``deploy/local`` (``stack.env``, ``cluster.env``);
    a ``#`` starts a comment."""
    values: dict[str, str] = {}
    for line in (LOCAL / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class ServiceLine:
    """A line of ``services.conf``: the service's name, its port and how to start it."""

    name: str
    port: int
    command: str


def service_lines() -> list[ServiceLine]:
    """``services.conf``: whatever services main holds now (a webhook ingress, say)."""
    lines = []
    for raw in (LOCAL / "services.conf").read_text().splitlines():
        fields = raw.split("#", 1)[0].split(None, 2)
        if len(fields) == 3:
            lines.append(ServiceLine(fields[0], int(fields[1]), fields[2]))
    return lines


STACK = env_file("stack.env")
SERVICE_PORTS = {line.name: line.port for line in service_lines()}

KAFKA = os.environ.get("DUNNING_KAFKA_BOOTSTRAP", f"127.0.0.1:{STACK['KAFKA_PORT']}")
REDIS_URL = os.environ.get("DUNNING_REDIS_URL", f"redis://127.0.0.1:{STACK['REDIS_PORT']}/0")
PG_ADMIN_DSN = os.environ.get(
    "DUNNING_PG_ADMIN_DSN", f"postgresql://dunning:dunning@127.0.0.1:{STACK['PG_PORT']}/dunning"
)


def service_url(name: str) -> str:
    """``http://127.0.0.1:<port>`` of a service of ``services.conf``."""
    return f"http://127.0.0.1:{SERVICE_PORTS[name]}"


def database_url(name: str) -> str:
    """The SQLAlchemy asyncpg URL of database ``name`` on the local stack."""
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


# The local stack's API key secrets (deploy/local/stack.env), unless the environment has its own.
ADMIN_KEY = os.environ.get("DUNNING_BOOTSTRAP_ADMIN_KEY", STACK["LOCAL_BOOTSTRAP_ADMIN_KEY"])
AUTH_PEPPER = os.environ.get("DUNNING_AUTH_PEPPER", STACK["LOCAL_AUTH_PEPPER"])


def use_local_keys() -> None:
    """Give every service built in this process the local bootstrap key and pepper, and
    the CLI the admin key (as ``deploy/local/env.sh`` does for a shell)."""
    os.environ.setdefault("DUNNING_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
    os.environ.setdefault("DUNNING_AUTH_PEPPER", AUTH_PEPPER)
    os.environ.setdefault("DUNNING_API_KEY", ADMIN_KEY)


def auth_headers(key: str = ADMIN_KEY) -> dict[str, str]:
    """The header that authenticates a request with ``key`` (the bootstrap admin's)."""
    return {"Authorization": f"Bearer {key}"}
