"""Entry point: ``python -m dunning_ops.app`` serves the operations dashboard."""

from __future__ import annotations

from dunning_core.runtime.service import run

from dunning_ops.bootstrap import build
from dunning_ops.config import OpsSettings


def main() -> None:
    settings = OpsSettings()
    run("ops", settings, lambda: build(settings), settings.port)


if __name__ == "__main__":
    main()
