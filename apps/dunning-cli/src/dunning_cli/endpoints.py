"""Where the CLI finds the services: each base URL from its environment variable, else the
port the local stack serves it on (``deploy/local/services.conf``). Written once, so every
command agrees on them, and typed once as the options that take them."""

from __future__ import annotations

import os
from typing import Annotated

import typer

LEDGER = os.environ.get("DUNNING_LEDGER_URL", "http://127.0.0.1:8001")
SCHEDULER = os.environ.get("DUNNING_SCHEDULER_URL", "http://127.0.0.1:8002")
GATE = os.environ.get("DUNNING_GATE_URL", "http://127.0.0.1:8003")
SANDBOX = os.environ.get("DUNNING_SANDBOX_URL", "http://127.0.0.1:8010")

LedgerUrl = Annotated[str, typer.Option(help="The ledger's base URL.")]
SchedulerUrl = Annotated[str, typer.Option(help="The scheduler's base URL.")]
GateUrl = Annotated[str, typer.Option("--gate", help="The compliance gate's base URL.")]
SandboxUrl = Annotated[str, typer.Option("--sandbox", help="The provider sandbox's base URL.")]
