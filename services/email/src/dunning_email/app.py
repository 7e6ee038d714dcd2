"""Entry point: ``python -m dunning_email.app`` serves the email worker."""

from __future__ import annotations

from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.service import serve

from dunning_email.bootstrap import build
from dunning_email.config import EmailSettings


def main() -> None:
    settings = EmailSettings()
    configure_logging("email", settings.log_level, settings.log_json)
    serve(lambda: build(settings), settings.http_host, settings.port)


if __name__ == "__main__":
    main()
