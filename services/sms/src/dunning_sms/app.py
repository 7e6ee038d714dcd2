"""Entry point: ``python -m dunning_sms.app`` serves the sms worker."""

from __future__ import annotations

from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.service import serve

from dunning_sms.bootstrap import build
from dunning_sms.config import SmsSettings


def main() -> None:
    settings = SmsSettings()
    configure_logging("sms", settings.log_level, settings.log_json)
    serve(lambda: build(settings), settings.http_host, settings.port)


if __name__ == "__main__":
    main()
