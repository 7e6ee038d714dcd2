"""Where the repository is and on which ports the local stack and the services listen.

One place for both: the stack's ports are read from ``deploy/local/stack.env`` (which the
stack scripts source) and the services' ports from ``deploy/local/services.conf`` (which
``services.sh`` reads). The ``DUNNING_*`` environment variables still win, so a test run
can point at another stack.
"""

from __future__ import annotations

import os
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


def _stack_env() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (LOCAL / "stack.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _service_ports() -> dict[str, int]:
    ports: dict[str, int] = {}
    for line in (LOCAL / "services.conf").read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            ports[fields[0]] = int(fields[1])
    return ports


STACK = _stack_env()
SERVICE_PORTS = _service_ports()

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
