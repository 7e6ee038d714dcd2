"""Entry point: ``python -m dunning_sms.ingress`` serves the sms webhook ingress.

Apart from the worker, so that provider callbacks and consumer replies are taken (and
acknowledged only once on the broker) while the worker restarts.
"""

from __future__ import annotations

from dunning_core.runtime.logging import configure_logging
from dunning_core.runtime.service import serve

from dunning_sms.bootstrap import build_ingress
from dunning_sms.config import SmsSettings


def main() -> None:
    settings = SmsSettings()
    configure_logging("sms-ingress", settings.log_level, settings.log_json)
    serve(lambda: build_ingress(settings), settings.http_host, settings.ingress_port)


if __name__ == "__main__":
    main()
