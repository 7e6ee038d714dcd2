"""Entry point: ``python -m dunning_ledger.app`` serves the ledger on 127.0.0.1:8001."""

from __future__ import annotations

from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.service import serve

from dunning_ledger.bootstrap import build
from dunning_ledger.config import LedgerSettings


def main() -> None:
    settings = LedgerSettings()
    configure_logging("ledger", settings.log_level, settings.log_json)
    serve(build(settings), settings.http_host, settings.ledger_port)


if __name__ == "__main__":
    main()
