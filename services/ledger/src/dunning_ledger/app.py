"""Entry point: ``python -m dunning_ledger.app`` serves the ledger on 127.0.0.1:8001.

The app is built inside the running event loop (aiokafka clients must be created in
one), then uvicorn serves it until SIGTERM/SIGINT, draining the consumer batch in hand.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.telemetry import setup_telemetry

from dunning_ledger.bootstrap import build
from dunning_ledger.config import LedgerSettings


async def serve(settings: LedgerSettings) -> None:
    config = uvicorn.Config(
        build(settings),
        host=settings.http_host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    await uvicorn.Server(config).serve()


# How long a thread may hold the GIL while another waits (CPython's default: 5 ms). An
# import reads the body in a thread while the event loop drives PostgreSQL's one backend:
# at 5 ms, each of a batch's round trips could wait that long behind the reader, and the
# database sat idle a fifth of the time (bench_import, 1M rows: 73 s, 66 s at 0.5 ms).
GIL_SWITCH_S = 0.0005


def main() -> None:
    sys.setswitchinterval(GIL_SWITCH_S)
    settings = LedgerSettings()
    configure_logging("ledger", settings.log_level, settings.log_json)
    setup_telemetry("ledger", settings)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
