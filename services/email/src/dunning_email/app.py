"""Entry point: ``python -m dunning_email.app`` serves the email worker."""

from __future__ import annotations

from dunning_core.runtime.service import run

from dunning_email.bootstrap import build
from dunning_email.config import EmailSettings


def main() -> None:
    settings = EmailSettings()
    run("email", settings, lambda: build(settings), settings.port)


if __name__ == "__main__":
    main()
