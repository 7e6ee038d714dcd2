"""Entry point: ``python -m dunning_sms.app`` serves the sms worker."""

from __future__ import annotations

from dunning_core.runtime.service import run

from dunning_sms.bootstrap import build
from dunning_sms.config import SmsSettings


def main() -> None:
    settings = SmsSettings()
    run("sms", settings, lambda: build(settings), settings.port)


if __name__ == "__main__":
    main()
