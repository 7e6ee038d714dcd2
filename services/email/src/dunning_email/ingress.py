"""``python -m dunning_email.ingress``: the webhook ingress (why apart: ``ingress_app``)."""

from __future__ import annotations

from dunning_core.runtime.service import run

from dunning_email.bootstrap import build_ingress
from dunning_email.config import EmailSettings


def main() -> None:
    settings = EmailSettings()
    run("email-ingress", settings, lambda: build_ingress(settings), settings.ingress_port)


if __name__ == "__main__":
    main()
