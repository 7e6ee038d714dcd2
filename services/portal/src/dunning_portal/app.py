"""Entry point: ``python -m dunning_portal.app`` serves the payment page."""

from __future__ import annotations

from dunning_core.runtime.service import run

from dunning_portal.bootstrap import build
from dunning_portal.config import PortalSettings


def main() -> None:
    settings = PortalSettings()
    run("portal", settings, lambda: build(settings), settings.port)


if __name__ == "__main__":
    main()
