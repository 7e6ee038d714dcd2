"""``python -m dunning_sms.ingress``: the webhook ingress (why apart: ``ingress_app``)."""

from __future__ import annotations

from dunning_core.runtime.service import run

from dunning_sms.bootstrap import build_ingress
from dunning_sms.config import SmsSettings


def main() -> None:
    settings = SmsSettings()
    run("sms-ingress", settings, lambda: build_ingress(settings), settings.ingress_port)


if __name__ == "__main__":
    main()
