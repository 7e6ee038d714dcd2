"""The committed OpenAPI documents of the services with an operator API.

``python -m dunning_testkit.openapi docs/openapi`` (``make openapi``) writes
``<service>.json`` for the ledger, the scheduler and the compliance gate from the apps
themselves (built, never started); ``tests/cross/test_openapi_committed.py`` fails when a
committed document differs from what the code serves, so a route change ships with its
document. Dev-only: it builds every service's app.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI


def _ledger() -> FastAPI:
    from dunning_ledger.bootstrap import build
    from dunning_ledger.config import LedgerSettings

    return build(LedgerSettings())


def _scheduler() -> FastAPI:
    from dunning_scheduler.bootstrap import build
    from dunning_scheduler.config import SchedulerSettings

    return build(SchedulerSettings())


def _gate() -> FastAPI:
    from dunning_gate.bootstrap import build
    from dunning_gate.config import GateSettings

    return build(GateSettings())


APPS: dict[str, Callable[[], FastAPI]] = {
    "ledger": _ledger,
    "scheduler": _scheduler,
    "compliance-gate": _gate,
}


def document(service: str) -> dict[str, Any]:
    """The app's document; built inside an event loop, as some clients insist on one."""

    async def built() -> dict[str, Any]:
        return APPS[service]().openapi()

    return asyncio.run(built())


def render(service: str) -> str:
    return json.dumps(document(service), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for service in APPS:
        (out / f"{service}.json").write_text(render(service), encoding="utf-8")
        sys.stdout.write(f"wrote {out / service}.json\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi"))
